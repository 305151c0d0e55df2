#!/usr/bin/env python3
"""probe_fake.py - spamtrace probe against scripted fake SMTP servers.

usage: probe_fake.py SPAMTRACE [CASE...]

One row of CASES per awkward server: how it behaves, the probe's arguments,
and what must come out (verdict, relayed count and which tests, error text,
a time bound, whether the server saw QUIT).  Every server asserts on its
side that DATA never came.  The JSON record's keys are compared both ways
with the contract's list plus our documented extras.  Servers listen on
127.0.0.1 (and ::1 for the IPv6 case) on random free ports; every wait has
a timeout, so the test ends by itself.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakesmtp import FakeServer, smtp_loop, make_cert, Conn  # noqa: E402

KEYS = {"target", "address", "banner", "verdict", "relayed", "tried",
        "error", "note", "server_name", "esmtp", "tls",
        "localhost_accepted", "quit_sent", "elapsed_ms", "tests",
        "transcript"}
TEST_KEYS = {"n", "form", "mail_from", "rcpt_to", "mail_reply",
             "rcpt_reply", "accepted", "third_party", "relayed"}

CERT = None  # (cert, key) made once in main()


# ---- scenarios --------------------------------------------------------

def sc_closed(c):
    smtp_loop(c)


def sc_open(c):
    smtp_loop(c, rcpt=lambda a, n: "250 2.1.5 Ok")


def sc_auth(c):
    smtp_loop(c, ehlo=("250-fake.example.org", "250-AUTH PLAIN LOGIN",
                       "250 8BITMIME"),
              mail=lambda a, n: "530 5.7.0 Authentication required")


def sc_tarpit(c):
    # accepts, never says a word; waits for the client to leave
    c.readline(timeout=20)


def sc_garbage(c):
    c.send(b"HTTP/1.0 400 Bad Request\r\nServer: not-smtp\r\n\r\n")
    c.readline(timeout=10)


def sc_multiline(c):
    smtp_loop(c,
              banner=("220-fake.example.org ESMTP", "220-this server talks",
                      "220 a lot"),
              ehlo=("250-fake.example.org greets you",
                    "250-SIZE 1000000", "250-ENHANCEDSTATUSCODES",
                    "250 HELP"),
              rcpt=lambda a, n: ("550-5.7.1 Relaying denied.",
                                 "550-5.7.1 See the policy at",
                                 "550 5.7.1 https://example.org/policy"))


def sc_percent(c):
    # relays only the % hack: "local%domain@us" (unquoted)
    def rcpt(a, n):
        if "%" in a and not a.startswith('<"') and "@" in a:
            return "250 2.1.5 Ok, will route it"
        return "550 5.7.1 Relaying denied"
    smtp_loop(c, rcpt=rcpt)


def sc_drop(c):
    def after(conn, verb, n):
        return "drop" if verb == "MAIL" and n == 5 else None
    smtp_loop(c, after=after)


def sc_open_then_drop(c):
    def after(conn, verb, n):
        return "drop" if verb == "MAIL" and n == 3 else None
    smtp_loop(c, rcpt=lambda a, n: "250 2.1.5 Ok", after=after)


def sc_421(c):
    def rcpt(a, n):
        if n == 4:
            return "421 4.7.0 fake.example.org Too many errors, closing"
        return "554 5.7.1 Relay access denied"
    smtp_loop(c, rcpt=rcpt)


def sc_helo_only(c):
    smtp_loop(c, ehlo="502 5.5.2 EHLO not implemented")


def sc_banner_554(c):
    c.reply("554 5.7.1 fake.example.org: no SMTP service here")
    line = c.readline(timeout=10)
    if line is not None and line.upper().startswith(b"QUIT"):
        c.reply("221 Bye")


def sc_flood(c):
    c.send(b"220 " + b"x" * 200000 + b"\r\n")
    c.readline(timeout=10)


def sc_dribble(c):
    # a greeting one byte at a time, slowly: the banner timeout still holds
    import select
    for b in b"220 slow.example.org ESMTP but very slow\r\n":
        c.send(bytes([b]))
        if c.closed:
            return
        r, _, _ = select.select([c.sock], [], [], 0.3)
        if r:
            break       # the client spoke (QUIT) or left
    c.readline(timeout=5)


def sc_localhost(c):
    # like the seed's gateway: takes plain user@localhost, nothing else
    def rcpt(a, n):
        if re.fullmatch(r"<[A-Za-z0-9._-]+@localhost>", a):
            return "250 ok"
        return "554 5.7.1 Relay access denied"
    smtp_loop(c, banner=("220 localhost ESMTP",),
              ehlo=("250-localhost", "250-PIPELINING", "250 8BITMIME"),
              mail=lambda a, n: "250 ok", rcpt=rcpt)


def sc_tls_open(c):
    smtp_loop(c, ehlo=("250-fake.example.org", "250-STARTTLS",
                       "250 8BITMIME"),
              rcpt=lambda a, n: "250 2.1.5 Ok", tls=CERT)


def sc_tls_broken(c):
    # offers STARTTLS, says 220, then talks plaintext garbage instead of TLS
    state = {"tls": False}

    def after(conn, verb, n):
        if verb == "STARTTLS":
            conn.reply("220 go ahead")
            conn.send(b"this is not a TLS handshake\r\n")
            return "drop"
        return None
    smtp_loop(c, ehlo=("250-fake.example.org", "250-STARTTLS",
                       "250 8BITMIME"), after=after)
    del state


def dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- the table ----------------------------------------------------------
# name, scenario, extra args, verdict, relayed, relayed test numbers,
# error regexp (None: error must be null), max seconds, QUIT seen by server
CASES = [
    ("closed", sc_closed, [], "closed", 0, [], None, 10, True),
    ("open", sc_open, [], "open", 16, list(range(1, 17)), None, 10, True),
    ("auth_required", sc_auth, [], "auth-required", 0, [], None, 10, True),
    ("tarpit", sc_tarpit, ["--timeout", "2"], "error", 0, [],
     r"no greeting within 2 s", 4.5, True),
    ("garbage_banner", sc_garbage, [], "error", 0, [],
     r"garbage instead of an SMTP greeting", 10, True),
    ("multiline", sc_multiline, [], "closed", 0, [], None, 10, True),
    ("percent_hack_only", sc_percent, [], "open", 2, [5, 6], None, 10,
     True),
    ("dropped", sc_drop, [], "error", 0, [],
     r"after 4 of 17 tests: connection closed by server", 10, False),
    ("open_then_dropped", sc_open_then_drop, [], "open", 2, [1, 2],
     r"connection closed by server", 10, False),
    ("closing_421", sc_421, [], "error", 0, [], r"421", 10, True),
    ("helo_only", sc_helo_only, [], "closed", 0, [], None, 10, True),
    ("banner_554", sc_banner_554, [], "closed", 0, [], None, 10, True),
    ("reply_flood", sc_flood, [], "error", 0, [], r"longer than", 10, True),
    ("dribbling_banner", sc_dribble, ["--timeout", "2"], "error", 0, [],
     r"no greeting within 2 s", 4.5, True),
    ("localhost_only", sc_localhost, [], "closed", 0, [], None, 10, True),
    ("starttls_open", sc_tls_open, [], "open", 16, list(range(1, 17)),
     None, 15, True),
    ("starttls_skipped", sc_tls_open, ["--no-tls"], "open", 16,
     list(range(1, 17)), None, 15, True),
    # the server drops the first session itself; the plaintext retry
    # must end with QUIT
    ("starttls_broken", sc_tls_broken, [], "closed", 0, [], None, 15,
     "last"),
]


def run_cli(cli, args, timeout=60):
    t = time.monotonic()
    r = subprocess.run([cli, "probe", "--json"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r, time.monotonic() - t


def check_record(name, rec, verdict, relayed, relayed_tests, error_re):
    errs = []
    keys = set(rec)
    if keys != KEYS:
        errs.append("keys: extra %s, missing %s"
                    % (sorted(keys - KEYS), sorted(KEYS - keys)))
    if rec.get("verdict") != verdict:
        errs.append("verdict %r, want %r (error %r)"
                    % (rec.get("verdict"), verdict, rec.get("error")))
    if rec.get("relayed") != relayed:
        errs.append("relayed %r, want %r" % (rec.get("relayed"), relayed))
    got = [t["n"] for t in rec.get("tests", []) if t.get("relayed")]
    if got != relayed_tests:
        errs.append("relayed tests %r, want %r" % (got, relayed_tests))
    for t in rec.get("tests", []):
        if set(t) != TEST_KEYS:
            errs.append("test keys %s" % sorted(set(t) ^ TEST_KEYS))
            break
    err = rec.get("error")
    if error_re is None and err is not None:
        errs.append("error %r, want none" % err)
    if error_re is not None and (err is None or not re.search(error_re,
                                                              err)):
        errs.append("error %r, want /%s/" % (err, error_re))
    if not rec.get("transcript"):
        errs.append("no transcript")
    if any(l.startswith("C: DATA") for l in rec.get("transcript", [])):
        errs.append("DATA in the transcript")
    return errs


def main():
    global CERT
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cli = sys.argv[1]
    only = set(sys.argv[2:])
    failed = passed = 0
    tmp = tempfile.mkdtemp(prefix="st-fake-")
    CERT = make_cert(tmp)

    def report(name, errs):
        nonlocal failed, passed
        if errs:
            failed += 1
            print("FAIL probe_fake/%s" % name)
            for e in errs:
                print("   ", e)
        else:
            passed += 1
            print("ok   probe_fake/%s" % name)

    for (name, scen, args, verdict, relayed, rtests, error_re, max_s,
         want_quit) in CASES:
        if only and name not in only:
            continue
        with FakeServer(scen) as srv:
            r, took = run_cli(cli, args + ["127.0.0.1:%d" % srv.port])
            srv.wait_closed(8)
            errs = []
            lines = r.stdout.decode("utf-8").splitlines()
            if len(lines) != 1:
                errs.append("%d output lines: %r" % (len(lines),
                                                     r.stdout[:300]))
            else:
                rec = json.loads(lines[0])
                errs += check_record(name, rec, verdict, relayed, rtests,
                                     error_re)
                if name.startswith("starttls_open"):
                    if not rec["tls"] or not rec["tls"]["version"]:
                        errs.append("TLS not recorded: %r" % rec["tls"])
                if name == "starttls_skipped":
                    if rec["tls"] is not None:
                        errs.append("TLS used despite --no-tls")
                    if any("STARTTLS" in c for s in srv.sessions
                           for c in s.commands):
                        errs.append("STARTTLS sent despite --no-tls")
                if name == "starttls_broken":
                    if not (rec["note"] and "without STARTTLS"
                            in rec["note"]):
                        errs.append("no plaintext retry note: %r"
                                    % rec["note"])
                if name == "helo_only" and rec["esmtp"]:
                    errs.append("esmtp true for a HELO-only server")
                if name == "localhost_only" and not rec[
                        "localhost_accepted"]:
                    errs.append("localhost acceptance not reported")
                if name == "multiline" and "220-" not in (rec["banner"]
                                                         or ""):
                    errs.append("multi-line banner lost: %r"
                                % rec["banner"])
            want_rc = 1 if verdict in ("error", "unreachable") else 0
            if r.returncode != want_rc:
                errs.append("exit %d, want %d" % (r.returncode, want_rc))
            if took > max_s:
                errs.append("took %.1f s, bound %.1f s" % (took, max_s))
            if not srv.sessions:
                errs.append("the server saw no connection")
            for i, s in enumerate(srv.sessions):
                if s.got_data():
                    errs.append("server received DATA")
                if want_quit == "last" and i != len(srv.sessions) - 1:
                    continue
                if want_quit and not s.got_quit():
                    errs.append("server never received QUIT: %r"
                                % s.commands[-3:])
            report(name, errs)

    # a dead port: unreachable, quickly
    if not only or "dead_port" in only:
        r, took = run_cli(cli, ["--timeout", "3",
                                "127.0.0.1:%d" % dead_port()])
        rec = json.loads(r.stdout.decode().splitlines()[0])
        errs = check_record("dead_port", rec, "unreachable", 0, [],
                            r"connect")
        if took > 3.5:
            errs.append("took %.1f s" % took)
        if r.returncode != 1:
            errs.append("exit %d, want 1" % r.returncode)
        report("dead_port", errs)

    # IPv6 loopback, bracketed target
    if not only or "ipv6" in only:
        try:
            with FakeServer(sc_open, socket.AF_INET6, "::1") as srv:
                r, took = run_cli(cli, ["[::1]:%d" % srv.port])
                srv.wait_closed(5)
                rec = json.loads(r.stdout.decode().splitlines()[0])
                errs = check_record("ipv6", rec, "open", 16,
                                    list(range(1, 17)), None)
                if rec["address"] != "::1":
                    errs.append("address %r" % rec["address"])
                t5 = [t for t in rec["tests"] if t["n"] == 5]
                if not t5 or "[IPv6:::1]" not in t5[0]["rcpt_to"]:
                    errs.append("IPv6 address literal: %r" % t5)
                report("ipv6", errs)
        except OSError as e:
            print("skip probe_fake/ipv6: no IPv6 loopback (%s)" % e)

    # several targets at once: bounded parallelism, order kept, and the
    # whole run ends in about one timeout per round.  Six targets name the
    # same tarpit, so its peak of simultaneous connections is the bound.
    if not only or "parallel" in only:
        with FakeServer(sc_tarpit) as tarpit, \
                FakeServer(sc_closed) as closed:
            targets = ["127.0.0.1:%d" % tarpit.port] * 6 + [
                "127.0.0.1:%d" % closed.port]
            r, took = run_cli(cli, ["--timeout", "2", "--parallel", "3"]
                              + targets)
            tarpit.wait_closed(5)
            recs = [json.loads(l) for l in r.stdout.decode().splitlines()]
            errs = []
            if [x["target"] for x in recs] != targets:
                errs.append("output order differs from input order")
            if [x["verdict"] for x in recs] != ["error"] * 6 + ["closed"]:
                errs.append("verdicts %r" % [x["verdict"] for x in recs])
            if tarpit.max_active != 3:
                errs.append("peak of %d connections at once, want 3"
                            % tarpit.max_active)
            # two rounds of tarpits at ~2 s each; one by one would be 12 s
            if not 3.5 <= took <= 7:
                errs.append("took %.1f s with --parallel 3" % took)
            for s in tarpit.sessions:
                if s.got_data() or not s.got_quit():
                    errs.append("tarpit session: DATA or no QUIT")
            report("parallel", errs)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
