#!/usr/bin/env python3
"""bench.py - what the spamtrace milter costs a real Postfix.

    bench.py SPAMTRACE [--messages N] [--sessions S] [--rounds R] [--size B]

Starts a private Postfix on 127.0.0.1 (tests/milter/pfmilter.py; delivery
is `discard`, so the queue manager's work is cheap and the same in both
modes) once without and once with smtpd_milters = the spamtrace milter
(default configuration: analyse every message, add the header), and drives
each with Postfix's smtp-source: S concurrent sessions, N messages of B
bytes, one message per SMTP session (like an MX), R rounds alternating
between the two setups.  Prints messages per second per round and the
median, and the milter's cost in percent.

Needs root, Postfix and /usr/sbin/smtp-source.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "milter"))
import pfmilter  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"


def run_source(pf, n, sessions, size):
    args = [SMTP_SOURCE, "-s", str(sessions), "-m", str(n), "-l", str(size),
            "-f", "sender@example.net", "-t", "user@example.org",
            "-M", "client.example.net", "127.0.0.1:%d" % pf.port]
    t0 = time.monotonic()
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("smtp-source failed:\n" + r.stdout)
    return dt, r.stdout


def count_accepted(pf):
    # Postfix logs one "queued as"-style cleanup line per accepted message
    return sum(1 for l in pf.log().splitlines()
               if "postfix/cleanup" in l and "message-id=" in l)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", type=int, default=2048)
    o = ap.parse_args()
    if not os.path.exists(SMTP_SOURCE):
        print("skipped: %s not found (Debian package postfix)" % SMTP_SOURCE)
        return 77
    modes = ["none", "spamtrace"]
    null = None
    tmp = tempfile.mkdtemp(prefix="st-milter-bench-")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc:
        null = os.path.join(tmp, "nullmilter")
        r = subprocess.run([cc, "-O2", "-o", null,
                            os.path.join(HERE, "nullmilter.c"), "-lmilter"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode == 0:
            modes = ["none", "null", "spamtrace"]
        else:
            print("nullmilter not built:\n" + r.stdout)
    rates = {m: [] for m in modes}
    try:
        for rnd in range(o.rounds):
            for mode in modes:
                milter = mode != "none"
                with pfmilter.PostfixMilter(
                        o.cli, "", milter=milter, deliver=False,
                        maxproc=o.sessions + 20,
                        other_milter=null if mode == "null" else None,
                        log_stderr=False) as pf:
                    # warm up (process pools, milter worker)
                    run_source(pf, min(200, o.messages), o.sessions, o.size)
                    dt, _ = run_source(pf, o.messages, o.sessions, o.size)
                    rate = o.messages / dt
                    rates[mode].append(rate)
                    time.sleep(1.0)
                    acc = count_accepted(pf)
                    hdrs = (pf.milter_log().count("stage=eom")
                            if mode == "spamtrace" else 0)
                    print("round %d %-10s %6d msgs in %6.2f s = %7.1f msg/s"
                          "  (cleanup saw %d%s)  load %s"
                          % (rnd + 1, mode, o.messages, dt, rate, acc,
                             ", milter decided %d" % hdrs if hdrs else "",
                             open("/proc/loadavg").read().split()[0]),
                          flush=True)
    except pfmilter.Skip as e:
        print(e)
        return 77
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(rates["none"])
    for m in modes:
        med = statistics.median(rates[m])
        print("median %-10s %7.1f msg/s  cost %5.1f%%"
              % (m, med, 100.0 * (base - med) / base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
