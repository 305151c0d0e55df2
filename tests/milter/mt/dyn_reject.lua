-- dynamic_direct = reject: the same client, refused for good (550 5.7.1);
-- also with the other test address 61.200.47.123 and a dynamic name.
--conf: dynamic_direct = reject
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "softbank061200047123.bbtec.net", "61.200.47.123",
    "localhost", "<spam@shop.example.com>")
T.check(r == SMFIR_REPLYCODE or r == SMFIR_REJECT,
    "MAIL refused with a custom reply (got " .. r .. ")")
mt.disconnect(conn)
