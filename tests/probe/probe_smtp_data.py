#!/usr/bin/env python3
"""probe_smtp_data.py - the report sender's side of lib/smtp (AUTH PLAIN,
AUTH LOGIN, DATA) against a fake server on 127.0.0.1.

usage: probe_smtp_data.py SMTP_SEND

Checks on the server side: the AUTH strings, the body exactly as RFC 5321
wants it on the wire (CRLF line ends, leading dots doubled, a final CRLF
added, then "."), and on the client side that the transcript hides the
credentials and the body.
"""
import base64
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakesmtp import FakeServer  # noqa: E402

WANT_BODY = (b"Subject: test\r\n\r\n..leading dot\r\nbare LF\r\nCRLF\r\n"
             b"CR only\r\n...two dots\r\n..\r\nno final newline\r\n")


def server(state):
    def scen(c):
        c.reply("220 smarthost.example.org ESMTP")
        while True:
            line = c.readline(10)
            if line is None:
                return
            u = line.upper()
            if u.startswith(b"EHLO"):
                c.reply("250-smarthost.example.org", "250-AUTH PLAIN LOGIN",
                        "250 8BITMIME")
            elif u.startswith(b"AUTH PLAIN "):
                state["auth"] = base64.b64decode(line[11:])
                c.reply("235 2.7.0 ok")
            elif u == b"AUTH LOGIN":
                c.reply("334 VXNlcm5hbWU6")
                u1 = base64.b64decode(c.readline(10))
                c.reply("334 UGFzc3dvcmQ6")
                p1 = base64.b64decode(c.readline(10))
                state["auth"] = b"\0" + u1 + b"\0" + p1
                c.reply("235 2.7.0 ok")
            elif u.startswith(b"MAIL") or u.startswith(b"RCPT"):
                c.reply("250 ok")
            elif u == b"DATA":
                c.reply("354 go")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = c.sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                state["body"] = data[:-3]
                c.reply("250 2.0.0 queued as X1")
            elif u == b"QUIT":
                c.reply("221 bye")
                return
            else:
                c.reply("502 no")
    return scen


def main():
    exe = sys.argv[1]
    failed = 0
    for mode in ("plain", "login"):
        state = {}
        with FakeServer(server(state)) as srv:
            r = subprocess.run([exe, "127.0.0.1", str(srv.port), mode],
                               stdout=subprocess.PIPE, timeout=30)
            srv.wait_closed(5)
        out = r.stdout.decode("utf-8", "replace")
        errs = []
        if r.returncode != 0:
            errs.append("exit %d: %s" % (r.returncode, out[-500:]))
        for want in ("auth 235", "mail 250", "rcpt 250", "data 250",
                     "quit 221"):
            if want not in out.splitlines():
                errs.append("missing %r" % want)
        if state.get("auth") != b"\0user\0secret":
            errs.append("auth seen %r" % state.get("auth"))
        if state.get("body") != WANT_BODY:
            errs.append("body on the wire %r" % state.get("body"))
        if "secret" in out or base64.b64encode(b"secret").decode() in out:
            errs.append("password in the transcript")
        if "leading dot" in out:
            errs.append("body in the transcript")
        if "T C: MAIL FROM:<sender@example.com> BODY=8BITMIME" not in out:
            errs.append("MAIL line with parameters missing")
        print(("FAIL" if errs else "ok  ") + " probe_smtp_data/" + mode)
        for e in errs:
            print("   ", e)
        failed += bool(errs)
    print("%d passed, %d failed" % (2 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
