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

Starting, stopping and the common configuration come from
tests/lib/private_postfix.py, shared with tests/milter/pfmilter.py:
start() raises Skip without /usr/sbin/postfix or root; stop() runs
`postfix -c DIR stop` and is called from __exit__ (so from a finally), then
kills what is left of the master by its pid file.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from private_postfix import (POSTFIX, Instance, Skip,  # noqa: E402,F401
                             master_cf)

TLSMGR = """\
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
"""

# after private_postfix.MAIN_CF
MAIN_CF = """\
myhostname = {name}
mydestination = $myhostname, localhost
mynetworks = {mynetworks}
smtpd_relay_restrictions = {relay}
smtpd_banner = $myhostname ESMTP Postfix (spamtrace test)
virtual_transport = discard
smtpd_error_sleep_time = {sleep}
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/etc/cert.pem
smtpd_tls_key_file = {d}/etc/key.pem
smtpd_tls_loglevel = 0
"""


class Postfix(Instance):
    prefix = "st-postfix-"

    def __init__(self, kind="closed", error_sleep="1s", tls=True):
        if kind not in ("open", "closed"):
            raise ValueError(kind)
        super().__init__()
        self.kind = kind
        self.error_sleep = error_sleep
        self.tls = tls
        self.name = "%s-relay.example.org" % kind

    def main_cf(self):
        open_ = self.kind == "open"
        main = MAIN_CF.format(
            d=self.dir, name=self.name, sleep=self.error_sleep,
            mynetworks="127.0.0.0/8" if open_ else "",
            relay=("permit_mynetworks, reject_unauth_destination"
                   if open_ else "reject_unauth_destination"))
        if not self.tls:
            main = "\n".join(l for l in main.splitlines()
                             if not l.startswith("smtpd_tls")) + "\n"
        return main

    def master_cf(self):
        return master_cf(self.port, extra=TLSMGR)

    def prepare(self):
        if self.tls:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-days", "2", "-subj", "/CN=%s" % self.name,
                 "-keyout", self.path("etc", "key.pem"),
                 "-out", self.path("etc", "cert.pem")],
                check=True, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=60)

    # -- evidence ----------------------------------------------------
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
        return super().queue_files(wait=wait)
