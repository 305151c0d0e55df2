-- mt_common.lua: what every miltertest script of tests/milter shares.
-- run_mt.py sets ST_CLI (the spamtrace binary), MT_PORT (a free port on
-- 127.0.0.1) and MT_CONF (the config file written from the script's
-- "--conf:" lines).
local M = {}
M.sock = "inet:" .. os.getenv("MT_PORT") .. "@127.0.0.1"

function M.start()
	mt.set_timeout(20)
	mt.startfilter(os.getenv("ST_CLI"), "milter", "--socket", M.sock,
	    "--foreground", "--log-stderr", "--timeout", "30",
	    "--config", os.getenv("MT_CONF"))
	local conn = mt.connect(M.sock, 80, 0.25)
	if conn == nil then error("cannot connect to the filter at " .. M.sock) end
	return conn
end

function M.check(cond, what)
	if not cond then
		mt.echo("FAILED: " .. what)
		error("FAILED: " .. what)
	end
	mt.echo("ok: " .. what)
end

-- connect + HELO + MAIL (+ macros); returns the reply to MAIL
function M.envelope(conn, name, ip, helo, from, auth)
	mt.macro(conn, SMFIC_CONNECT, "j", "mx.example.org")
	M.check(mt.conninfo(conn, name, ip) == nil, "conninfo " .. ip)
	M.check(mt.getreply(conn) == SMFIR_CONTINUE, "connect: continue")
	M.check(mt.helo(conn, helo) == nil, "helo")
	M.check(mt.getreply(conn) == SMFIR_CONTINUE, "helo: continue")
	if auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", "4TESTQID", "{auth_authen}", auth,
		    "{auth_type}", "PLAIN")
	else
		mt.macro(conn, SMFIC_MAIL, "i", "4TESTQID")
	end
	M.check(mt.mailfrom(conn, from) == nil, "mailfrom")
	return mt.getreply(conn)
end

-- RCPT, DATA headers (a list of {name, value}), body, EOM; returns the
-- reply to EOM
function M.message(conn, rcpt, headers, body)
	M.check(mt.rcptto(conn, rcpt) == nil, "rcptto")
	M.check(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt: continue")
	for _, h in ipairs(headers) do
		M.check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
	end
	M.check(mt.eoh(conn) == nil, "eoh")
	if body ~= nil and body ~= "" then
		M.check(mt.bodystring(conn, body) == nil, "body")
	end
	M.check(mt.eom(conn) == nil, "eom")
	return mt.getreply(conn)
end

-- RCPT, then the message of file path (relative to tests/milter) as
-- headers and body, EOM; returns the reply to EOM
function M.message_file(conn, rcpt, path)
	local f = assert(io.open(path, "rb"))
	local text = f:read("*a")
	f:close()
	text = text:gsub("\r\n", "\n")
	local hdr, body = text:match("^(.-)\n\n(.*)$")
	if hdr == nil then hdr, body = text, "" end
	local headers = {}
	for line in (hdr .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #headers > 0 then
			local h = headers[#headers]
			h[2] = h[2] .. "\n" .. line
		else
			local n, v = line:match("^([^:]+):[ \t]?(.*)$")
			if n ~= nil then table.insert(headers, {n, v}) end
		end
	end
	return M.message(conn, rcpt, headers, (body:gsub("\n", "\r\n")))
end

-- the value of the X-Spamtrace header the filter added ("" if none)
function M.added(conn)
	if not mt.eom_check(conn, MT_HDRADD, "X-Spamtrace") then return "" end
	return mt.getheader(conn, "X-Spamtrace", 0) or ""
end

-- did the filter ask for an SMTP reply at EOM (451 or 550)?
function M.replied(conn)
	return mt.eom_check(conn, MT_SMTPREPLY, "451") or
	    mt.eom_check(conn, MT_SMTPREPLY, "550")
end

function M.has(s, part)
	return string.find(s, part, 1, true) ~= nil
end

return M
