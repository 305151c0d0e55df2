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

Starting, stopping and the common configuration come from
tests/lib/private_postfix.py, shared with tests/probe/pfx.py.  Needs root
and /usr/sbin/postfix: raises Skip otherwise.  stop() runs `postfix -c DIR
stop`, then stops the milter by its pid file (SIGTERM, then SIGKILL), and
is called from __exit__ (so from a finally).

For the milter tests without Postfix too: require() (raise Skip when a
tool or libmilter is missing), free_port(), milter_env().
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from private_postfix import (POSTFIX, Instance, Skip,  # noqa: E402,F401
                             end_process, free_port, master_cf, read_pid)

MILTERTEST = shutil.which("miltertest") or "/usr/bin/miltertest"
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"


def require(cli, tool):
    """Raise Skip when the program tool (a path: MILTERTEST, SWAKS) is
    missing, or when cli was built without libmilter."""
    if not os.path.exists(tool):
        name = os.path.basename(tool)
        raise Skip("skipped: %s is not installed (Debian: %s)" % (name, name))
    r = subprocess.run([cli, "milter"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=20)
    if "without libmilter" in r.stdout:
        raise Skip("skipped: this spamtrace was built without libmilter")


def milter_env(d, **more):
    """The environment for a milter or miltertest run in directory d: d is
    HOME and XDG_CONFIG_HOME, so no user config leaks in."""
    return dict(os.environ, HOME=d, XDG_CONFIG_HOME=d, **more)


VIRTUAL = """\
virtual   unix  -       n       n       -       -       virtual
"""

# after private_postfix.MAIN_CF
MAIN_CF = """\
myhostname = mx.example.org
mydestination = localhost
mynetworks = 127.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_banner = $myhostname ESMTP Postfix (spamtrace milter test)
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
anvil_rate_time_unit = 60s
default_process_limit = {maxproc}
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


class PostfixMilter(Instance):
    prefix = "st-milter-pf-"
    subdirs = ("mail", "run")

    def __init__(self, cli, conf_text="", milter=True, deliver=True,
                 maxproc=100, other_milter=None, log_stderr=True):
        """other_milter: the path of another libmilter program taking the
        socket as its only argument (bench/milter/nullmilter.c), run in
        place of spamtrace's."""
        super().__init__()
        self.cli = cli
        self.other_milter = other_milter
        self.log_stderr = log_stderr
        self.other_proc = None
        self.milter_logf = None
        self.conf_text = conf_text
        self.milter = milter
        self.deliver = deliver
        self.maxproc = maxproc

    def main_cf(self):
        main = MAIN_CF.format(d=self.dir, uid=self.pw.pw_uid,
                              gid=self.pw.pw_gid, maxproc=self.maxproc,
                              vtransport="virtual" if self.deliver
                              else "discard")
        if self.milter:
            main += MILTER_CF.format(d=self.dir)
        return main

    def master_cf(self):
        return master_cf(self.port, maxproc=self.maxproc, extra=VIRTUAL)

    def prepare(self):
        if self.milter and self.other_milter:
            self._start_other()
        elif self.milter:
            self._start_milter()

    def _start_milter(self):
        d = self.dir
        conf = os.path.join(d, "spamtrace.conf")
        with open(conf, "w") as f:
            f.write(self.conf_text)
        os.chmod(conf, 0o644)
        self.milter_logf = open(self.path("log", "milter.log"), "w")
        r = subprocess.run(
            [self.cli, "milter", "--socket", "unix:%s/run/milter.sock" % d,
             "--config", conf, "--user", "postfix",
             "--pidfile", self.path("run", "milter.pid")] +
            (["--log-stderr"] if self.log_stderr else []),
            stdout=self.milter_logf, stderr=self.milter_logf,
            env=milter_env(d), timeout=30)
        if r.returncode != 0:
            raise RuntimeError("milter start failed:\n" + self.milter_log())
        st = os.stat(self.path("run", "milter.sock"))
        if st.st_uid != self.pw.pw_uid:
            raise RuntimeError("milter socket not owned by postfix")

    def _start_other(self):
        sock = self.path("run", "milter.sock")
        self.milter_logf = open(self.path("log", "milter.log"), "w")
        self.other_proc = subprocess.Popen(
            [self.other_milter, "unix:" + sock],
            stdout=self.milter_logf, stderr=self.milter_logf)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        os.chmod(sock, 0o666)

    def milter_pid(self):
        return read_pid(self.path("run", "milter.pid"))

    def stop_more(self):
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
            end_process(mpid, term=True, wait=10.0)
        if self.milter_logf is not None:
            self.milter_logf.close()
            self.milter_logf = None

    # -- evidence ----------------------------------------------------
    def milter_log(self):
        return self.read("log", "milter.log")

    def mailbox(self):
        return self.read("mail", "inbox")

    def queue_empty(self):
        return not self.queue_files(("incoming", "active", "deferred",
                                     "maildrop"), wait=0)
