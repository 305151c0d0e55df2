#!/usr/bin/env python3
"""smtp_sink.py - a scripted SMTP server on loopback for the report tests.

Accepts SMTP (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing,
RSET, NOOP, QUIT) on 127.0.0.1 at a random high port and stores every
message it accepts.  Behaviour is scripted:

  refuse_rcpt   set of addresses answered "550 5.7.1" at RCPT
  refuse_all_rcpt  refuse every RCPT with 550
  hang_data     after "354", never answer the final dot (for the
                interrupted-send test); the caller kills the client
  tls           (certfile, keyfile): offer STARTTLS (RFC 3207) and, once
                TLS is up, AUTH PLAIN (RFC 4616); the credentials used are
                kept in .auth, and MAIL is refused (530) until AUTH when
                require_auth is set

Used as a module (SmtpSink) by run_tests.py, or alone:
  smtp_sink.py [--refuse-all] -> prints the port, stores into ./sink-*.eml
Stops by itself: every connection has a 30 s timeout and the server is
shut down by its owner (or after --lifetime seconds when run alone).
"""
import base64
import socket
import socketserver
import ssl
import sys
import threading


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode("ascii"))
        self.wfile.flush()

    def handle(self):
        sink = self.server.sink
        sink.connections += 1
        self.reply("220 sink.test ESMTP spamtrace test sink")
        mail_from = None
        rcpts = []
        tls_on = authed = False
        while True:
            try:
                raw = self.rfile.readline(4096)
            except (socket.timeout, OSError):
                return
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            sink.transcript.append("C: " + line)
            verb = line[:4].upper()
            if verb in ("EHLO",):
                ext = [b"8BITMIME", b"SIZE 100000000"]
                if sink.tls and not tls_on:
                    ext.append(b"STARTTLS")
                if sink.tls and tls_on:
                    ext.append(b"AUTH PLAIN")
                self.wfile.write(b"250-sink.test\r\n" + b"".join(
                    (b"250 " if i == len(ext) - 1 else b"250-") + e +
                    b"\r\n" for i, e in enumerate(ext)))
                self.wfile.flush()
            elif verb == "STAR" and sink.tls and not tls_on:
                self.reply("220 2.0.0 Ready to start TLS")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(*sink.tls)
                try:
                    self.request = ctx.wrap_socket(self.request,
                                                   server_side=True)
                except (ssl.SSLError, OSError):
                    return
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
                tls_on = True
                sink.tls_sessions += 1
            elif verb == "AUTH" and tls_on:
                parts = line.split()
                try:
                    if len(parts) >= 3:
                        cred = base64.b64decode(parts[2])
                    else:
                        self.reply("334 ")
                        cred = base64.b64decode(self.rfile.readline().strip())
                    _, user, pw = cred.split(b"\0")
                    sink.auth.append((user.decode(), pw.decode()))
                    authed = True
                    self.reply("235 2.7.0 Authentication successful")
                except (ValueError, OSError):
                    self.reply("535 5.7.8 Authentication failed")
            elif verb == "MAIL" and sink.require_auth and not authed:
                self.reply("530 5.7.0 Authentication required")
            elif verb == "HELO":
                self.reply("250 sink.test")
            elif verb == "MAIL":
                mail_from = line[10:].strip()
                rcpts = []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = line[8:].strip().strip("<>").split(">")[0]
                if sink.refuse_all_rcpt or addr.lower() in sink.refuse_rcpt:
                    self.reply("550 5.7.1 <%s>: Recipient address "
                               "rejected: test refusal" % addr)
                else:
                    rcpts.append(addr)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 Error: no valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    try:
                        d = self.rfile.readline(1 << 20)
                    except (socket.timeout, OSError):
                        return
                    if not d:
                        return
                    if d in (b".\r\n", b".\n"):
                        break
                    if d.startswith(b".."):
                        d = d[1:]
                    body.append(d)
                if sink.hang_data:
                    sink.hung.set()
                    try:
                        self.rfile.readline()
                    except (socket.timeout, OSError):
                        pass
                    return
                n = len(sink.messages) + 1
                sink.messages.append({"from": mail_from, "rcpts": rcpts,
                                      "data": b"".join(body)})
                self.reply("250 2.0.0 Ok: queued as SINK%04d" % n)
                rcpts = []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class SmtpSink:
    def __init__(self, refuse_rcpt=(), refuse_all_rcpt=False,
                 hang_data=False, tls=None, require_auth=False):
        self.tls = tls
        self.require_auth = require_auth
        self.auth = []
        self.tls_sessions = 0
        self.refuse_rcpt = {a.lower() for a in refuse_rcpt}
        self.refuse_all_rcpt = refuse_all_rcpt
        self.hang_data = hang_data
        self.hung = threading.Event()
        self.messages = []
        self.transcript = []
        self.connections = 0
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    import time
    refuse = "--refuse-all" in sys.argv
    life = 60
    if "--lifetime" in sys.argv:
        life = int(sys.argv[sys.argv.index("--lifetime") + 1])
    with SmtpSink(refuse_all_rcpt=refuse) as s:
        print(s.port, flush=True)
        t0 = time.time()
        seen = 0
        while time.time() - t0 < life:
            time.sleep(0.2)
            while seen < len(s.messages):
                with open("sink-%d.eml" % seen, "wb") as f:
                    f.write(s.messages[seen]["data"])
                seen += 1
