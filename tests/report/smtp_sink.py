#!/usr/bin/env python3
"""smtp_sink.py - a scripted SMTP server on loopback for the report tests.

Accepts SMTP (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing,
RSET, NOOP, QUIT) on 127.0.0.1 at a random high port and stores every
message it accepts.  Behaviour is scripted:

  refuse_rcpt   set of addresses answered "550 5.7.1" at RCPT
  refuse_all_rcpt  refuse every RCPT with 550
  hang_data     after "354", never answer the final dot (for the
                interrupted-send test); the caller kills the client

Used as a module (SmtpSink) by run_tests.py, or alone:
  smtp_sink.py [--refuse-all] -> prints the port, stores into ./sink-*.eml
Stops by itself: every connection has a 30 s timeout and the server is
shut down by its owner (or after --lifetime seconds when run alone).
"""
import socket
import socketserver
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
                self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n"
                                 b"250 SIZE 100000000\r\n")
                self.wfile.flush()
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
                 hang_data=False):
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
