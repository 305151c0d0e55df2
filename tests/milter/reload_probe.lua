-- reload_probe.lua: used by reload_test.py against a running milter (not
-- started here).  MT_EXPECT = "continue" or "refuse": what MAIL FROM from
-- a dynamic client directly to the MX must get.
local T = require("mt_common")
mt.set_timeout(10)
local conn = mt.connect(T.sock, 40, 0.25)
if conn == nil then error("cannot connect to the filter at " .. T.sock) end
local r = T.envelope(conn, "d102.GtokyoFL38.vectant.ne.jp", "202.215.137.102",
    "localhost", "<spam@shop.example.com>")
if os.getenv("MT_EXPECT") == "refuse" then
	T.check(r == SMFIR_REPLYCODE or r == SMFIR_TEMPFAIL, "MAIL refused (got " .. r .. ")")
else
	T.check(r == SMFIR_CONTINUE, "MAIL continues (got " .. r .. ")")
end
mt.disconnect(conn)
