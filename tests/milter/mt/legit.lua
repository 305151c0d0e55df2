-- A legitimate server with refusing policies configured: nothing refused,
-- header added without findings of a dynamic sender.
--conf: dynamic_direct = tempfail
--conf: backscatter = reject
--conf: my_outbound = 203.0.113.0/24
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "mail.example.net", "210.130.30.5",
    "mail.example.net", "<hanako@example.net>")
T.check(r == SMFIR_CONTINUE, "MAIL continues (got " .. r .. ")")
r = T.message(conn, "<user@example.org>", {
    {"Received", "from mail.example.net (mail.example.net [210.130.30.5])\n\tby mx.example.org (Postfix) with ESMTPS id 3B2A1\n\tfor <user@example.org>; Mon, 13 Mar 2006 10:00:01 +0900 (JST)"},
    {"From", "Hanako <hanako@example.net>"},
    {"To", "user@example.org"},
    {"Subject", "meeting"},
    {"Date", "Mon, 13 Mar 2006 10:00:00 +0900"},
    {"Message-ID", "<20060313010000.AB12@mail.example.net>"}},
    "See you at ten.\r\n")
T.check(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "EOM accepts (got " .. r .. ")")
local h = T.added(conn)
mt.echo("X-Spamtrace: " .. h)
T.check(h == "origin=210.130.30.5; source=210.130.30.5; findings=none",
    "header exactly as expected")
T.check(not T.replied(conn), "no SMTP reply set")
mt.disconnect(conn)
