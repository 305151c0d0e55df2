"""private_postfix.py - what the probe's and the milter's Postfix harnesses
share: a private Postfix instance on loopback, started and stopped by a test.

Used by tests/probe/pfx.py and tests/milter/pfmilter.py (and, through them,
by bench/probe and bench/milter).  Everything lives in one temporary
directory: config_directory (etc/), queue_directory (queue/),
data_directory (data/), the log (log/maillog through postlogd), and what a
harness adds (its `subdirs`).  smtpd listens on 127.0.0.1 on a free high
port given in master.cf, and nothing leaves the machine: the default,
relay and local transports are "discard".

A harness subclasses Instance and says what is its own:

    prefix        the temporary directory's name prefix
    subdirs       more directories, owned by the postfix user
    main_cf()     main.cf lines after the common ones (MAIN_CF)
    master_cf()   master.cf, usually master_cf(self.port, extra=...)
    prepare()     runs once the configuration is written, before
                  `postfix start` (certificates, a milter)
    stop_more()   runs in stop() once the master is gone

start() raises Skip ("skipped: ...", for exit status 77) without
/usr/sbin/postfix, without root (master drops to mail_owner) or without a
'postfix' user; RuntimeError when Postfix does not start or does not answer
with 220 within 20 s.  stop() runs `postfix -c DIR stop`, kills what is left
of this instance's master (and only it) by its pid file, and removes the
directory (kept and printed with ST_KEEP_POSTFIX set); it is called from
__exit__, so from a finally, and may be called more than once.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

POSTFIX = "/usr/sbin/postfix"


class Skip(Exception):
    """A test cannot run here; str() is the line to print before exit 77."""


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_smtp(port, timeout=20):
    """Wait until 127.0.0.1:port greets with 220 (then say QUIT); False if
    it has not within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=1) as s:
                s.settimeout(5)
                if s.recv(100).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def end_process(pid, term=False, wait=5.0):
    """Wait up to `wait` seconds for pid to exit (after SIGTERM if term),
    then SIGKILL it.  A pid that is gone already is fine."""
    try:
        if term:
            os.kill(pid, signal.SIGTERM)
        for _ in range(int(wait * 10)):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def read_pid(path):
    """The number in a pid file, or None."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


# smtpd's line comes first (master_cf() fills it in); each harness adds its
# own services (tlsmgr, virtual) with `extra`
MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{listen} inet  n       -       n       -       {maxproc} smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
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


def master_cf(port, maxproc="-", extra=""):
    """master.cf with smtpd on 127.0.0.1:port and the services in extra."""
    return MASTER_CF.format(listen="127.0.0.1:%d" % port,
                            maxproc=maxproc) + extra


# the lines every instance has; a harness's main_cf() follows (myhostname,
# mydestination, mynetworks, restrictions, virtual_transport ...)
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
mydomain = example.org
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
biff = no
# nothing ever leaves this machine
default_transport = discard
relay_transport = discard
local_transport = discard
# a probe's RCPT opens a queue file that RSET throws away, a benchmark
# sends faster than anything is delivered: either way the flow-control
# tokens run out and each later transaction would wait in_flow_delay (1s),
# an artifact of the test and not of the server's policy
in_flow_delay = 0s
"""


class Instance:
    prefix = "st-postfix-"
    subdirs = ()

    def __init__(self):
        self.dir = None
        self.port = None
        self.pw = None

    # -- what a harness says ------------------------------------------
    def main_cf(self):
        return ""

    def master_cf(self):
        return master_cf(self.port)

    def prepare(self):
        pass

    def stop_more(self):
        pass

    # -- lifecycle --------------------------------------------------
    def start(self):
        if not os.path.exists(POSTFIX):
            raise Skip("skipped: Postfix is not installed (%s)" % POSTFIX)
        if os.geteuid() != 0:
            raise Skip("skipped: a private Postfix instance needs root")
        try:
            self.pw = pwd.getpwnam("postfix")
        except KeyError:
            raise Skip("skipped: no 'postfix' user")
        self.dir = tempfile.mkdtemp(prefix=self.prefix)
        os.chmod(self.dir, 0o755)
        d = self.dir
        for sub in ("etc", "queue", "log", "data") + tuple(self.subdirs):
            os.makedirs(os.path.join(d, sub))
            if sub not in ("etc", "queue", "log"):
                shutil.chown(os.path.join(d, sub), self.pw.pw_uid,
                             self.pw.pw_gid)
        self.port = free_port()
        try:
            self.write_conf("main.cf", MAIN_CF.format(d=d) + self.main_cf())
            self.write_conf("master.cf", self.master_cf())
            self.prepare()
        except BaseException:
            self.stop()
            raise
        r = subprocess.run([POSTFIX, "-c", os.path.join(d, "etc"), "start"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, text=True)
        if r.returncode != 0:
            out = r.stdout
            self.stop()
            raise RuntimeError("postfix start failed:\n" + out)
        if not wait_smtp(self.port, 20):
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
        pid = read_pid(os.path.join(d, "queue", "pid", "master.pid"))
        if pid is not None:
            end_process(pid)
        self.stop_more()
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

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write_conf(self, name, text):
        with open(self.path("etc", name), "w") as f:
            f.write(text)

    # -- evidence ----------------------------------------------------
    def read(self, *parts):
        """A file of the instance's directory, "" if it cannot be read."""
        try:
            with open(self.path(*parts), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log(self):
        return self.read("log", "maillog")

    def queue_files(self, queues=("maildrop", "incoming", "active",
                                  "deferred", "hold", "corrupt"),
                    wait=5.0):
        """Files in the given mail queues, waiting up to `wait` seconds for
        there to be none."""
        deadline = time.monotonic() + wait
        while True:
            found = []
            for q in queues:
                for root, _dirs, files in os.walk(self.path("queue", q)):
                    found += [os.path.join(root, f) for f in files]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)
