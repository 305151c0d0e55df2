#!/usr/bin/env python3
"""bench_probe.py - spamtrace probe against nmap's smtp-open-relay on the
same loopback Postfix servers: verdicts and wall time of the full battery.

usage: bench_probe.py [--runs N] [--spamtrace PATH] [--error-sleep 1s|0s]

Starts two private Postfix instances on 127.0.0.1 (tests/probe/pfx.py: an
open relay, mynetworks = 127.0.0.0/8; a closed one, reject_unauth_
destination), then for each runs N times:

  nmap -Pn -n -p PORT --script +smtp-open-relay 127.0.0.1
  spamtrace probe --no-tls 127.0.0.1:PORT     (plaintext, like nmap)
  spamtrace probe 127.0.0.1:PORT              (with STARTTLS, the default)
  spamtrace probe --no-tls --tests-per-session 0 127.0.0.1:PORT
                                   (the whole battery on one connection)

(round-robin) and prints each tool's verdict and the median / min / max wall
time of the whole command.  Postfix's in_flow_delay is set to 0 (see
pfx.py): a probe's aborted transactions would otherwise exhaust its flow
tokens and slow whichever tool came later by a second per test.  ("+" makes nmap run the script on a non-standard port.)
nmap's battery is 16 tests; spamtrace's is 17 (the 16 plus the seed's
localhost recipient).  Postfix's smtpd_error_sleep_time (default 1s) slows
every reply after the 10th error: it is left at its default unless
--error-sleep 0s is given, and it weighs on both tools alike.
Needs root, Postfix and nmap; loopback only; stops the instances in a
finally.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "probe"))
import pfx  # noqa: E402


def nmap_verdict(out):
    if re.search(r"Server is an open relay \((\d+)/16 tests\)", out):
        n = re.search(r"open relay \((\d+)/16", out).group(1)
        return "open (%s/16)" % n
    if "doesn't seem to be an open relay" in out:
        return "closed"
    if "authentication needed" in out:
        return "auth-required"
    if "smtp-open-relay" not in out:
        return "script did not run"
    return "other: " + out.strip().splitlines()[-1]


def st_verdict(out):
    import json
    try:
        rec = json.loads(out.splitlines()[0])
    except (ValueError, IndexError):
        return "no output"
    v = rec["verdict"]
    if v == "open":
        v += " (%d/%d)" % (rec["relayed"], rec["tried"])
    return v


def timed(cmd, timeout=300):
    t = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, text=True)
    return time.monotonic() - t, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--spamtrace", default=os.path.join(
        HERE, "..", "..", "build", "spamtrace"))
    ap.add_argument("--error-sleep", default="1s")
    a = ap.parse_args()
    if not os.path.exists("/usr/bin/nmap"):
        print("skipped: nmap is not installed")
        return 77
    rows = []
    for kind in ("open", "closed"):
        try:
            pf = pfx.Postfix(kind, error_sleep=a.error_sleep).start()
        except pfx.Skip as e:
            print(e)
            return 77
        try:
            tools = [
                ("nmap smtp-open-relay",
                 ["nmap", "-Pn", "-n", "-p", str(pf.port), "--script",
                  "+smtp-open-relay", "127.0.0.1"], nmap_verdict),
                ("spamtrace probe --no-tls",
                 [a.spamtrace, "probe", "--json", "--no-tls",
                  "127.0.0.1:%d" % pf.port], st_verdict),
                ("spamtrace probe (STARTTLS)",
                 [a.spamtrace, "probe", "--json",
                  "127.0.0.1:%d" % pf.port], st_verdict),
                ("spamtrace, 1 session, no TLS",
                 [a.spamtrace, "probe", "--json", "--no-tls",
                  "--tests-per-session", "0",
                  "127.0.0.1:%d" % pf.port], st_verdict),
            ]
            times = {name: [] for name, _, _ in tools}
            verdicts = {name: set() for name, _, _ in tools}
            # round-robin, so no tool always meets a fresher server
            for _ in range(a.runs):
                for name, cmd, verdict in tools:
                    t, out = timed(cmd)
                    times[name].append(t)
                    verdicts[name].add(verdict(out))
            for name, _, _ in tools:
                ts = times[name]
                rows.append((kind, name, " / ".join(sorted(verdicts[name])),
                             statistics.median(ts), min(ts), max(ts)))
        finally:
            pf.stop()
    print("Postfix smtpd_error_sleep_time = %s, %d runs each"
          % (a.error_sleep, a.runs))
    print("%-7s %-28s %-16s %9s %9s %9s" % ("server", "tool", "verdict",
                                          "median s", "min s", "max s"))
    for kind, name, v, med, lo, hi in rows:
        print("%-7s %-28s %-16s %9.3f %9.3f %9.3f" % (kind, name, v, med,
                                                    lo, hi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
