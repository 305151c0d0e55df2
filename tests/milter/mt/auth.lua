-- An authenticated client on a dynamic address (a road warrior sending
-- through us) is never acted on, even with dynamic_direct = reject.
--conf: dynamic_direct = reject
--conf: backscatter = reject
--conf: my_outbound = 203.0.113.0/24
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "d102.GtokyoFL38.vectant.ne.jp", "202.215.137.102",
    "[192.168.1.20]", "<taro@example.org>", "taro")
T.check(r == SMFIR_CONTINUE, "MAIL continues (got " .. r .. ")")
r = T.message(conn, "<friend@example.net>", {
    {"From", "Taro <taro@example.org>"},
    {"To", "friend@example.net"},
    {"Subject", "hello"},
    {"Date", "Mon, 13 Mar 2006 10:00:00 +0900"},
    {"Message-ID", "<t.1@example.org>"}}, "hi\r\n")
T.check(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "EOM accepts (got " .. r .. ")")
local h = T.added(conn)
mt.echo("X-Spamtrace: " .. h)
T.check(T.has(h, "origin=202.215.137.102"), "header added")
T.check(not T.has(h, "tag="), "not tagged")
T.check(not T.has(h, "DYNAMIC_SENDER"), "no DYNAMIC_SENDER for an authenticated client")
mt.disconnect(conn)
