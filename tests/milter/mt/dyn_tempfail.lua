-- dynamic_direct = tempfail: a dynamic client talking straight to the MX
-- is refused at MAIL FROM with a reply code (451 4.7.1, see the log).
--conf: dynamic_direct = tempfail
--conf: backscatter = reject
--conf: my_outbound = 203.0.113.0/24, smtp.example.org
local T = require("mt_common")
local conn = T.start()
local r = T.envelope(conn, "d102.GtokyoFL38.vectant.ne.jp", "202.215.137.102",
    "localhost", "<spam@shop.example.com>")
T.check(r == SMFIR_REPLYCODE or r == SMFIR_TEMPFAIL,
    "MAIL refused with a custom reply (got " .. r .. ")")
mt.disconnect(conn)
