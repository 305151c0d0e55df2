-- backscatter = reject, but the bounce is for a message that did pass our
-- outbound host: a genuine bounce, delivered with backscatter=no.
--conf: backscatter = reject
--conf: my_outbound = 203.0.113.0/24, smtp.example.org
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "mx.bouncer.example.net", "210.130.40.25",
    "mx.bouncer.example.net", "<>")
T.check(r == SMFIR_CONTINUE, "MAIL continues (got " .. r .. ")")
r = T.message_file(conn, "<user@example.org>", "msgs/bounce_ours.eml")
T.check(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "EOM accepts (got " .. r .. ")")
local h = T.added(conn)
mt.echo("X-Spamtrace: " .. h)
T.check(T.has(h, "; backscatter=no"), "header says backscatter=no")
T.check(not T.replied(conn), "no SMTP reply set")
mt.disconnect(conn)
