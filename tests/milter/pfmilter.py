"""pfmilter.py - a private Postfix instance on loopback with the spamtrace
milter, for tests/milter/postfix_e2e.py and bench/milter/bench.py.

Everything lives in one temporary directory: config_directory, queue
directory, data directory, the Postfix log (maillog_file via postlogd), the
milter's config, log and socket, and the delivered mail.

    with PostfixMilter(cli, conf_text, milter=True, deliver=True) as pf:
        pf.port                 # smtpd on 127.0.0.1:pf.port
        pf.mailbox()            # what was delivered (one mbox file)
        pf.log(), pf.milter_log()

smtpd allows XCLIENT from 127.0.0.0/8 (smtpd_authorized_xclient_hosts), so
a test can speak for any client address, name, HELO and login.  Mail for
example.org is delivered by virtual(8) into one mbox file (deliver=True) or
discarded (deliver=False, for the benchmark).  The milter runs as user
postfix on a unix socket in the directory (exercising --user and the socket
ownership), daemonised with a pid file.

Needs root and /usr/sbin/postfix: raises Skip otherwise.  stop() runs
`postfix -c DIR stop`, then stops the milter by its pid file (SIGTERM, then
SIGKILL), and is called from __exit__ (so from a finally).
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
    pass


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{port} inet n   -       n       -       {maxproc} smtpd
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
virtual   unix  -       n       n       -       -       virtual
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
myhostname = mx.example.org
mydomain = example.org
myorigin = $myhostname
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_banner = $myhostname ESMTP Postfix (spamtrace milter test)
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
anvil_rate_time_unit = 60s
default_process_limit = {maxproc}
in_flow_delay = 0
# nothing ever leaves this machine
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_mailbox_domains = example.org
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = static:inbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
virtual_transport = {vtransport}
"""

MILTER_CF = """\
smtpd_milters = unix:{d}/run/milter.sock
milter_default_action = accept
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 20s
milter_content_timeout = 60s
"""


class PostfixMilter:
    def __init__(self, cli, conf_text="", milter=True, deliver=True,
                 maxproc=100, other_milter=None, log_stderr=True):
        """other_milter: the path of another libmilter program taking the
        socket as its only argument (bench/milter/nullmilter.c), run in
        place of spamtrace's."""
        self.cli = cli
        self.other_milter = other_milter
        self.log_stderr = log_stderr
        self.other_proc = None
        self.conf_text = conf_text
        self.milter = milter
        self.deliver = deliver
        self.maxproc = maxproc
        self.dir = None
        self.port = None

    # -- lifecycle --------------------------------------------------
    def start(self):
        if not os.path.exists(POSTFIX):
            raise Skip("skipped: Postfix is not installed (%s)" % POSTFIX)
        if os.geteuid() != 0:
            raise Skip("skipped: a private Postfix instance needs root")
        try:
            pw = pwd.getpwnam("postfix")
        except KeyError:
            raise Skip("skipped: no 'postfix' user")
        self.dir = tempfile.mkdtemp(prefix="st-milter-pf-")
        os.chmod(self.dir, 0o755)
        d = self.dir
        for sub in ("etc", "queue", "data", "log", "mail", "run"):
            os.makedirs(os.path.join(d, sub))
        shutil.chown(os.path.join(d, "data"), "postfix", "postfix")
        shutil.chown(os.path.join(d, "mail"), pw.pw_uid, pw.pw_gid)
        shutil.chown(os.path.join(d, "run"), pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        main = MAIN_CF.format(d=d, uid=pw.pw_uid, gid=pw.pw_gid,
                              maxproc=self.maxproc,
                              vtransport="virtual" if self.deliver
                              else "discard")
        if self.milter:
            main += MILTER_CF.format(d=d)
        with open(os.path.join(d, "etc", "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(d, "etc", "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port, maxproc=self.maxproc))
        if self.milter and self.other_milter:
            self._start_other()
        elif self.milter:
            self._start_milter(pw)
        r = subprocess.run([POSTFIX, "-c", os.path.join(d, "etc"), "start"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, text=True)
        if r.returncode != 0:
            out = r.stdout
            self.stop()
            raise RuntimeError("postfix start failed:\n" + out)
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
            raise RuntimeError("postfix did not listen on %d" % self.port)
        return self

    def _start_milter(self, pw):
        d = self.dir
        conf = os.path.join(d, "spamtrace.conf")
        with open(conf, "w") as f:
            f.write(self.conf_text)
        os.chmod(conf, 0o644)
        self.milter_logf = open(os.path.join(d, "log", "milter.log"), "w")
        env = dict(os.environ, HOME=d, XDG_CONFIG_HOME=d)
        r = subprocess.run(
            [self.cli, "milter", "--socket", "unix:%s/run/milter.sock" % d,
             "--config", conf, "--user", "postfix",
             "--pidfile", os.path.join(d, "run", "milter.pid")] +
            (["--log-stderr"] if self.log_stderr else []),
            stdout=self.milter_logf, stderr=self.milter_logf, env=env,
            timeout=30)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError("milter start failed:\n" + self.milter_log())
        sock = os.path.join(d, "run", "milter.sock")
        st = os.stat(sock)
        if st.st_uid != pw.pw_uid:
            self.stop()
            raise RuntimeError("milter socket not owned by postfix")

    def _start_other(self):
        sock = os.path.join(self.dir, "run", "milter.sock")
        self.milter_logf = open(os.path.join(self.dir, "log", "milter.log"),
                                "w")
        self.other_proc = subprocess.Popen(
            [self.other_milter, "unix:" + sock],
            stdout=self.milter_logf, stderr=self.milter_logf)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        os.chmod(sock, 0o666)

    def milter_pid(self):
        try:
            with open(os.path.join(self.dir, "run", "milter.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

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
        if self.other_proc is not None:
            self.other_proc.terminate()
            try:
                self.other_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.other_proc.kill()
                self.other_proc.wait()
            self.other_proc = None
        mpid = (self.milter_pid() if self.milter and not self.other_milter
                else None)
        if mpid is not None:
            try:
                os.kill(mpid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(mpid, 0)
                    time.sleep(0.1)
                os.kill(mpid, signal.SIGKILL)
            except OSError:
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
    def _read(self, *parts):
        try:
            with open(os.path.join(self.dir, *parts), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log(self):
        return self._read("log", "maillog")

    def milter_log(self):
        return self._read("log", "milter.log")

    def mailbox(self):
        return self._read("mail", "inbox")

    def queue_empty(self):
        for q in ("incoming", "active", "deferred", "maildrop"):
            for _root, _dirs, files in os.walk(
                    os.path.join(self.dir, "queue", q)):
                if files:
                    return False
        return True
