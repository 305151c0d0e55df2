"""pfx.py - a private Postfix instance on loopback for the probe's tests and
benchmark.

Everything lives in a temporary directory: config_directory, queue_directory,
data_directory, the log (maillog_file through postlogd), a throw-away
self-signed certificate for STARTTLS.  smtpd listens on 127.0.0.1 on a free
high port given in master.cf; nothing is ever delivered (every transport is
"discard" or "error", and the probe never sends DATA anyway).

    with Postfix(kind="open") as pf:      # or kind="closed"
        pf.port, pf.log(), pf.queue_files(), pf.disconnect_lines()

kind "open": mynetworks = 127.0.0.0/8, so loopback clients may relay.
kind "closed": mynetworks empty, smtpd_relay_restrictions =
reject_unauth_destination.

Needs root (Postfix's master drops to mail_owner) and /usr/sbin/postfix;
raise Skip when either is missing.  stop() runs `postfix -c DIR stop` and
is called from __exit__ (so from a finally), then kills what is left of the
master by its pid file.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

POSTFIX = "/usr/sbin/postfix"


class Skip(Exception):
    pass


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{listen} inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {d}/etc
queue_directory = {d}/queue
data_directory = {d}/data
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {d}/log/maillog
maillog_file_prefixes = {d}/log
myhostname = {name}
mydomain = example.org
myorigin = $myhostname
mydestination = $myhostname, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = {mynetworks}
smtpd_relay_restrictions = {relay}
smtpd_banner = $myhostname ESMTP Postfix (spamtrace test)
alias_maps =
alias_database =
local_recipient_maps =
biff = no
# nothing ever leaves: whatever would be delivered is discarded
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_transport = discard
smtpd_error_sleep_time = {sleep}
# every accepted RCPT opens a queue file that RSET throws away; with no
# deliveries the flow-control tokens run out and each later transaction
# waits in_flow_delay (1s): an artifact of probing, not of the server's
# policy, and it would penalise whichever tool runs second
in_flow_delay = 0s
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/etc/cert.pem
smtpd_tls_key_file = {d}/etc/key.pem
smtpd_tls_loglevel = 0
"""


class Postfix:
    def __init__(self, kind="closed", error_sleep="1s", tls=True):
        if kind not in ("open", "closed"):
            raise ValueError(kind)
        self.kind = kind
        self.error_sleep = error_sleep
        self.tls = tls
        self.dir = None
        self.port = None

    # -- lifecycle --------------------------------------------------
    def start(self):
        if not os.path.exists(POSTFIX):
            raise Skip("skipped: Postfix is not installed (%s)" % POSTFIX)
        if os.geteuid() != 0:
            raise Skip("skipped: a private Postfix instance needs root")
        self.dir = tempfile.mkdtemp(prefix="st-postfix-")
        os.chmod(self.dir, 0o755)
        d = self.dir
        for sub in ("etc", "queue", "data", "log"):
            os.makedirs(os.path.join(d, sub))
        shutil.chown(os.path.join(d, "data"), "postfix", "postfix")
        self.port = free_port()
        name = "%s-relay.example.org" % self.kind
        mynetworks = "127.0.0.0/8" if self.kind == "open" else ""
        relay = ("permit_mynetworks, reject_unauth_destination"
                 if self.kind == "open" else "reject_unauth_destination")
        main = MAIN_CF.format(d=d, name=name, mynetworks=mynetworks,
                              relay=relay, sleep=self.error_sleep)
        if not self.tls:
            main = "\n".join(l for l in main.splitlines()
                             if not l.startswith("smtpd_tls")) + "\n"
        with open(os.path.join(d, "etc", "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(d, "etc", "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="127.0.0.1:%d" % self.port))
        if self.tls:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-days", "2", "-subj", "/CN=%s" % name,
                 "-keyout", os.path.join(d, "etc", "key.pem"),
                 "-out", os.path.join(d, "etc", "cert.pem")],
                check=True, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=60)
        r = subprocess.run([POSTFIX, "-c", os.path.join(d, "etc"), "start"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, text=True)
        if r.returncode != 0:
            out = r.stdout
            self.stop()
            raise RuntimeError("postfix start failed:\n" + out)
        # wait until smtpd's port answers
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=1) as s:
                    s.settimeout(5)
                    if s.recv(100).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("postfix did not start listening on %d"
                               % self.port)
        return self

    def stop(self):
        if self.dir is None:
            return
        d = self.dir
        try:
            subprocess.run([POSTFIX, "-c", os.path.join(d, "etc"), "stop"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        except Exception:
            pass
        # whatever is left of this instance's master (and only it)
        pidfile = os.path.join(d, "queue", "pid", "master.pid")
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        if os.environ.get("ST_KEEP_POSTFIX"):
            print("kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- evidence ----------------------------------------------------
    def log(self):
        try:
            with open(os.path.join(self.dir, "log", "maillog"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def disconnect_lines(self, wait=3.0):
        """The smtpd 'disconnect from' lines (command counts, Postfix
        >= 3.0); waits a little for postlogd to write them."""
        deadline = time.monotonic() + wait
        while True:
            lines = [l for l in self.log().splitlines()
                     if "disconnect from" in l and "smtpd" in l]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.1)

    def queue_files(self, wait=5.0):
        """Files in the mail queues: must end up empty (no DATA).  An
        accepted RCPT opens a file in incoming/ that cleanup removes when
        the transaction is abandoned (RSET, QUIT): wait for that."""
        deadline = time.monotonic() + wait
        while True:
            found = []
            for q in ("maildrop", "incoming", "active", "deferred", "hold",
                      "corrupt"):
                top = os.path.join(self.dir, "queue", q)
                for root, _dirs, files in os.walk(top):
                    found += [os.path.join(root, f) for f in files]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)
