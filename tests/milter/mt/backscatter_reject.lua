-- backscatter = reject: a DSN for a message our hosts never sent (the
-- original came from a dynamic address straight to the bouncer) is
-- refused at the end of the message with 550 5.7.1.
--conf: backscatter = reject
--conf: my_outbound = 203.0.113.0/24, smtp.example.org
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "mx.bouncer.example.net", "210.130.40.25",
    "mx.bouncer.example.net", "<>")
T.check(r == SMFIR_CONTINUE, "MAIL continues (got " .. r .. ")")
r = T.message_file(conn, "<user@example.org>", "msgs/bounce_backscatter.eml")
T.check(r == SMFIR_REPLYCODE or r == SMFIR_REJECT,
    "EOM refused with a custom reply (got " .. r .. ")")
T.check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
    "This bounce is for a message our servers never sent (backscatter of forged mail); refused"),
    "reply is 550 5.7.1 with the explanation")
mt.disconnect(conn)
