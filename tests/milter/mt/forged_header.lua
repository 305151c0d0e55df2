-- A sender's own X-Spamtrace field is removed and ours added; a body over
-- the 1 MB cap is not kept (truncated=yes) and the message still passes.
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "mail.example.net", "210.130.30.5",
    "mail.example.net", "<hanako@example.net>")
T.check(r == SMFIR_CONTINUE, "MAIL continues (got " .. r .. ")")
T.check(mt.rcptto(conn, "<user@example.org>") == nil, "rcptto")
T.check(mt.header(conn, "From", "Hanako <hanako@example.net>") == nil, "From")
T.check(mt.header(conn, "X-Spamtrace", "origin=127.0.0.1; source=127.0.0.1; findings=none") == nil, "forged field")
T.check(mt.header(conn, "Subject", "big") == nil, "Subject")
T.check(mt.eoh(conn) == nil, "eoh")
local line = string.rep("x", 998) .. "\r\n"
local chunk = string.rep(line, 60)
for i = 1, 25 do
	T.check(mt.bodystring(conn, chunk) == nil, "body chunk " .. i)
end
T.check(mt.eom(conn) == nil, "eom")
r = mt.getreply(conn)
T.check(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "EOM accepts (got " .. r .. ")")
T.check(mt.eom_check(conn, MT_HDRDELETE, "X-Spamtrace") or
    mt.eom_check(conn, MT_HDRCHANGE, "X-Spamtrace"), "forged field removed")
local h = T.added(conn)
mt.echo("X-Spamtrace: " .. h)
T.check(T.has(h, "origin=210.130.30.5"), "our header added")
T.check(T.has(h, "truncated=yes"), "truncated=yes")
mt.disconnect(conn)
