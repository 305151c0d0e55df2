-- The default configuration never refuses: the dynamic client's message
-- goes through with the header, tagged.
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "d102.GtokyoFL38.vectant.ne.jp", "202.215.137.102",
    "localhost", "<spam@shop.example.com>")
T.check(r == SMFIR_CONTINUE, "MAIL continues (got " .. r .. ")")
r = T.message(conn, "<user@example.org>", {
    {"From", "\"Sale\" <sale@shop.example.com>"},
    {"To", "user@example.org"},
    {"Subject", "cheap watches"},
    {"Date", "Sat, 11 Mar 2006 12:51:40 -0000"},
    {"Message-ID", "<abc.123@shop.example.com>"}}, "buy now\r\n")
T.check(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "EOM accepts (got " .. r .. ")")
local h = T.added(conn)
mt.echo("X-Spamtrace: " .. h)
T.check(T.has(h, "origin=202.215.137.102; source=202.215.137.102; findings="),
    "header names origin and source")
T.check(T.has(h, "DYNAMIC_SENDER"), "header has DYNAMIC_SENDER")
T.check(T.has(h, "tag=dynamic_direct"), "header is tagged")
T.check(not T.replied(conn), "no SMTP reply set")
mt.disconnect(conn)
