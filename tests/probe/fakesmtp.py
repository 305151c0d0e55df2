"""fakesmtp.py - scripted fake SMTP servers on 127.0.0.1 for the probe's
tests: each scenario is a small function that plays one kind of awkward
server.  Every connection's commands are recorded, and the server side
asserts what the probe promises: DATA is never sent, QUIT always is (where
the session lets it).

    with FakeServer(scenario) as srv:   # srv.port, srv.sessions
        ...

A scenario is called as scenario(conn) where conn has send(bytes),
readline(timeout) -> bytes or None (connection closed), close(), and
conn.commands (the list of lines received).  Threads, one per connection;
the listening socket is loopback only and every wait has a timeout.
"""
import select
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import os


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.commands = []
        self.closed = False
        self.tls = False
        self.counted = False    # in FakeServer.active
        self.uncounted = False  # taken out of it again

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True

    def reply(self, *lines):
        for l in lines:
            self.send(l + "\r\n")

    def readline(self, timeout=15):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except (socket.timeout, OSError):
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.rstrip(b"\r")
        self.commands.append(line.decode("latin-1"))
        return line

    def starttls(self, certfile, keyfile):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self.sock.settimeout(15)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.buf = b""
        self.tls = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    # what the probe promises, seen from the server
    def verbs(self):
        return [c.split(" ", 1)[0].split(":", 1)[0].upper()
                for c in self.commands]

    def got_data(self):
        return "DATA" in self.verbs()

    def got_quit(self):
        return "QUIT" in self.verbs()


def peer_gone(c):
    """Has the client closed its end of c (an end of file is waiting)?"""
    if c.tls:
        return False            # TLS records: not looked into
    try:
        if not select.select([c.sock], [], [], 0)[0]:
            return False
        return c.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return True


class FakeServer:
    def __init__(self, scenario, family=socket.AF_INET, addr="127.0.0.1"):
        self.scenario = scenario
        self.family = family
        self.addr = addr
        self.sessions = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.stop_flag = threading.Event()

    def __enter__(self):
        self.sock = socket.socket(self.family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.addr, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(5)
        self.sock.close()
        return False

    def _serve(self):
        while not self.stop_flag.is_set():
            try:
                s, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            c = Conn(s)
            with self.lock:
                self.sessions.append(c)
            threading.Thread(target=self._run, args=(c,),
                             daemon=True).start()

    def _run(self, c):
        with self.lock:
            # A client that left an earlier session just before opening
            # this one is gone as far as the kernel knows, even when that
            # session's thread has not been scheduled to notice yet: count
            # it out now, so max_active is what the client really had open.
            for o in self.sessions:
                if o is not c and o.counted and not o.uncounted and \
                        peer_gone(o):
                    o.uncounted = True
                    self.active -= 1
            c.counted = True
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.scenario(c)
        except Exception as e:  # a broken scenario must show, not hang
            c.commands.append("!scenario error: %r" % e)
        finally:
            c.close()
            with self.lock:
                if not c.uncounted:
                    c.uncounted = True
                    self.active -= 1

    def wait_closed(self, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.active == 0:
                    return True
            time.sleep(0.05)
        return False


def make_cert(dirname, cn="fake.example.org"):
    cert = os.path.join(dirname, "cert.pem")
    key = os.path.join(dirname, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
    return cert, key


# ---------------------------------------------------------------------
# a small programmable SMTP server: rules decide each reply

def smtp_loop(c, banner=("220 fake.example.org ESMTP test",),
              ehlo=("250-fake.example.org", "250-PIPELINING",
                    "250 8BITMIME"),
              helo="250 fake.example.org",
              mail=lambda arg, n: "250 2.1.0 Ok",
              rcpt=lambda arg, n: "554 5.7.1 Relay access denied",
              rset="250 2.0.0 Ok", after=None, tls=None, timeout=15):
    """Play a server: banner, then answer commands until QUIT or close.
    mail/rcpt are functions (argument, count) -> reply line(s).
    after(c, verb, count) may return "drop" to close the connection."""
    c.reply(*banner)
    counts = {}
    while True:
        line = c.readline(timeout)
        if line is None:
            return
        text = line.decode("latin-1")
        verb = text.split(" ", 1)[0].split(":", 1)[0].upper()
        counts[verb] = counts.get(verb, 0) + 1
        n = counts[verb]
        if after is not None and after(c, verb, n) == "drop":
            c.close()
            return
        arg = text[len(verb):].lstrip(":").strip() if verb in (
            "MAIL", "RCPT") else ""
        if verb == "MAIL":
            arg = text.split(":", 1)[1].strip() if ":" in text else ""
            out = mail(arg, n)
        elif verb == "RCPT":
            arg = text.split(":", 1)[1].strip() if ":" in text else ""
            out = rcpt(arg, n)
        elif verb == "EHLO":
            out = ehlo
        elif verb == "HELO":
            out = helo
        elif verb == "RSET":
            out = rset
        elif verb == "STARTTLS" and tls is not None:
            c.reply("220 2.0.0 Ready to start TLS")
            c.starttls(*tls)
            continue
        elif verb == "QUIT":
            c.reply("221 2.0.0 Bye")
            return
        elif verb == "DATA":
            c.reply("554 5.5.1 the probe must never send DATA")
            continue
        else:
            out = "502 5.5.2 Error: command not recognized"
        if isinstance(out, str):
            out = (out,)
        c.reply(*out)
