#!/usr/bin/env python3
"""probe_postfix.py - spamtrace probe against real Postfix on loopback.

usage: probe_postfix.py SPAMTRACE

Starts two private Postfix instances (tests/probe/pfx.py: own
config_directory, queue_directory, data_directory and log in a temporary
directory, smtpd on 127.0.0.1 on a free high port, STARTTLS with a
throw-away certificate): an open relay (mynetworks = 127.0.0.0/8) and a
closed one (mynetworks empty, reject_unauth_destination, Postfix's default
error delays left on so the probe meets a server that slows down).  Checks:

  - the verdicts (open: all sixteen nmap forms relayed; closed: none);
  - Postfix's own command counts on disconnect: no DATA, QUIT in every
    session, 17 MAIL in two sessions (9 + 8 tests), and the whole battery
    on one connection with --tests-per-session 0; the queue stays empty;
  - STARTTLS recorded, and not attempted with --no-tls;
  - both servers in one run with --parallel 2, output in input order.

Exits 77 (skipped) without Postfix or root.  Every instance is stopped in a
finally (`postfix -c DIR stop`), and every probe run has a timeout.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pfx  # noqa: E402


def probe(cli, args, timeout=120):
    t = time.monotonic()
    r = subprocess.run([cli, "probe", "--json"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    took = time.monotonic() - t
    recs = [json.loads(l) for l in r.stdout.decode().splitlines()]
    return r, recs, took


def counts(line):
    """'ehlo=2 starttls=1 mail=17 rcpt=1/17 ...' -> dict of first
    numbers."""
    return {k: int(v) for k, v in re.findall(r"\b([a-z]+)=(\d+)", line)}


def session_counts(pf, before, sessions=None, wait=5):
    """Sum Postfix's command counts over the disconnect lines logged
    after the first `before` ones."""
    deadline = time.monotonic() + wait
    while True:
        lines = pf.disconnect_lines(wait=0)[before:]
        if (lines and (sessions is None or len(lines) >= sessions)) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.2)
    total = {"sessions": len(lines)}
    for l in lines:
        print("   postfix: %s" % l.split(": ", 1)[-1])
        for k, v in counts(l).items():
            total[k] = total.get(k, 0) + v
    return total


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    cli = sys.argv[1]
    errs = []
    passed = 0

    def check(cond, msg):
        nonlocal passed
        if cond:
            passed += 1
        else:
            errs.append(msg)
            print("FAIL", msg)

    try:
        opn = pfx.Postfix("open").start()
    except pfx.Skip as e:
        print(e)
        return 77
    try:
        cls = pfx.Postfix("closed").start()
        try:
            targets = {"open": opn, "closed": cls}
            for kind, pf in targets.items():
                before = len(pf.disconnect_lines(wait=0))
                r, recs, took = probe(cli, ["127.0.0.1:%d" % pf.port])
                print("%s: verdict %s, relayed %s/%s, %.2f s, tls %s"
                      % (kind, recs[0]["verdict"], recs[0]["relayed"],
                         recs[0]["tried"], took, recs[0]["tls"]))
                rec = recs[0]
                check(rec["verdict"] == kind, "%s: verdict %s"
                      % (kind, rec["verdict"]))
                want = 16 if kind == "open" else 0
                check(rec["relayed"] == want, "%s: relayed %d, want %d"
                      % (kind, rec["relayed"], want))
                check(rec["tried"] == 17, "%s: tried %d" % (kind,
                                                             rec["tried"]))
                check([t["n"] for t in rec["tests"] if t["relayed"]]
                      == (list(range(1, 17)) if kind == "open" else []),
                      "%s: relayed tests" % kind)
                check(rec["tls"] is not None and
                      rec["tls"]["version"].startswith("TLS"),
                      "%s: TLS not recorded" % kind)
                check(rec["error"] is None, "%s: error %r" % (kind,
                                                             rec["error"]))
                check(rec["quit_sent"], "%s: QUIT not sent" % kind)
                check(r.returncode == 0, "%s: exit %d" % (kind,
                                                          r.returncode))
                c = session_counts(pf, before)
                print("   postfix, summed over the sessions: %s" % c)
                check(c.get("sessions") == 2, "%s: %s sessions, want 2 "
                      "(9 + 8 tests)" % (kind, c.get("sessions")))
                check("data" not in c and "bdat" not in c,
                      "%s: Postfix counted DATA: %s" % (kind, c))
                check(c.get("quit") == 2, "%s: QUIT count %s, want one "
                      "per session" % (kind, c.get("quit")))
                check(c.get("mail") == 17 and c.get("rset") == 15,
                      "%s: MAIL/RSET counts %s" % (kind, c))
                check(c.get("starttls") == 2, "%s: STARTTLS count %s"
                      % (kind, c.get("starttls")))
                check(pf.queue_files() == [], "%s: queue not empty: %r"
                      % (kind, pf.queue_files()))

            # the whole battery on one connection, as nmap does: the
            # closed server slows down after 10 errors but the verdict
            # still comes, within the deadline
            before = len(cls.disconnect_lines(wait=0))
            r, recs, took = probe(cli, ["--tests-per-session", "0",
                                        "127.0.0.1:%d" % cls.port])
            print("closed, one session: %s in %.2f s"
                  % (recs[0]["verdict"], took))
            check(recs[0]["verdict"] == "closed", "one session: verdict %s"
                  % recs[0]["verdict"])
            c = session_counts(cls, before)
            check(c.get("sessions") == 1 and c.get("mail") == 17 and
                  c.get("rset") == 16 and c.get("quit") == 1 and
                  "data" not in c, "one session: counts %s" % c)

            # --no-tls: plaintext only
            before = len(opn.disconnect_lines(wait=0))
            r, recs, took = probe(cli, ["--no-tls",
                                        "127.0.0.1:%d" % opn.port])
            check(recs[0]["verdict"] == "open" and recs[0]["tls"] is None,
                  "--no-tls: %s tls %r" % (recs[0]["verdict"],
                                            recs[0]["tls"]))
            c = session_counts(opn, before, sessions=2)
            check(c.get("sessions") == 2 and "starttls" not in c,
                  "--no-tls: counts %s" % c)

            # both at once, order kept
            order = ["127.0.0.1:%d" % cls.port, "127.0.0.1:%d" % opn.port]
            r, recs, took = probe(cli, ["--parallel", "2"] + order)
            check([x["target"] for x in recs] == order, "parallel: order")
            check([x["verdict"] for x in recs] == ["closed", "open"],
                  "parallel: verdicts %r" % [x["verdict"] for x in recs])
            print("both at once: %.2f s" % took)
            for kind, pf in targets.items():
                check(pf.queue_files() == [], "%s: queue not empty at the "
                      "end" % kind)
                log = pf.log()
                check(not re.search(r"\bdata=\d", log),
                      "%s: DATA somewhere in the log" % kind)
        finally:
            cls.stop()
    finally:
        opn.stop()
    print("%d passed, %d failed" % (passed, len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
