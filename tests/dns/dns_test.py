#!/usr/bin/env python3
"""dns_test.py - integration tests of the dns module against real servers
on loopback, started and stopped here.

usage: dns_test.py PART DNS_TEST SPAMTRACE DIR
  PART       resolver | dead | cache | cli | bench
  DNS_TEST   the tests/dns/dns_test.c program (the library API)
  SPAMTRACE  the spamtrace binary
  DIR        tests/dns (cases.json and the .eml files)

resolver  dnsmasq serves the zone data of cases.json; dns_test looks up
          every address; each result, the status line and the warnings
          are compared with cases.json both ways.
dead      a UDP socket that reads and discards: the library and the CLI
          must warn, mark results timed_out, print every record and end
          well within 20 s; a second batch fails fast (dead resolver);
          a closed port is reported as such.
cache     the SQLite cache file: a second run against a dead resolver is
          served from the file; an answer whose TTL ran out is not.
cli       spamtrace trace --dns --json on the .eml files: wherever an
          address of cases.json appears (origin, source, relays) its dns
          object must be the expected one.
bench     (not a ctest) time N addresses against dnsmasq.

dnsmasq comes from Debian's dnsmasq-base; without it the test skips (77).
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
DNSMASQ = shutil.which("dnsmasq") or (
    "/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else None)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dns_query(port, name, qtype=1, timeout=0.3):
    """One UDP query; the rcode, or None when nothing came back."""
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, ("127.0.0.1", port))
        data, _ = s.recvfrom(4096)
        return data[3] & 0xF
    except OSError:
        return None
    finally:
        s.close()


class Dnsmasq:
    """dnsmasq on 127.0.0.1:<free high port>, foreground, killed on exit."""

    def __init__(self, records, ttl=300):
        if DNSMASQ is None:
            print("skipped: dnsmasq not installed (Debian: dnsmasq-base)")
            sys.exit(SKIP)
        for _ in range(5):
            self.port = free_port()
            args = [DNSMASQ, "--no-daemon", "--keep-in-foreground",
                    "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                    "--pid-file=", "--listen-address=127.0.0.1",
                    "--bind-interfaces", "--port=%d" % self.port,
                    "--local-ttl=%d" % ttl, "--log-facility=-"]
            if os.geteuid() == 0:
                args += ["--user=root", "--group=root"]
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(args + records,
                                         stdout=subprocess.DEVNULL,
                                         stderr=self.log)
            deadline = time.time() + 5
            while time.time() < deadline and self.proc.poll() is None:
                if dns_query(self.port, "mail.good.test") is not None:
                    return
                time.sleep(0.05)
            self.log.seek(0)
            err = self.log.read()
            self.stop()
            if b"Address already in use" not in err:
                break
        print("skipped: dnsmasq did not start: %s" %
              err.decode(errors="replace").strip()[-300:])
        sys.exit(SKIP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class BlackHole:
    """A UDP port that reads every query and never answers."""

    def __init__(self, seconds=30):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.packets = 0
        self.stop_at = time.time() + seconds
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while time.time() < self.stop_at:
            try:
                self.sock.recvfrom(4096)
                self.packets += 1
            except socket.timeout:
                pass
            except OSError:
                return

    def stop(self):
        self.stop_at = 0
        self.thread.join(2)
        self.sock.close()


def run(cmd, timeout=30):
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode(), p.stderr.decode(),
            time.time() - t0)


def api(dns_test, port, ips, zones, extra=()):
    cmd = [dns_test, "--resolver", "127.0.0.1:%d" % port]
    for z in zones:
        cmd += ["--dnsbl", z]
    cmd += list(extra) + list(ips)
    rc, out, err, secs = run(cmd)
    if rc != 0:
        fail("%s exited %d: %s" % (" ".join(cmd), rc, err))
    results = [json.loads(line) for line in out.splitlines()]
    warnings = [l[len("warning: "):] for l in err.splitlines()
                if l.startswith("warning: ")]
    status = [l[len("status: "):].rsplit(" (", 1)[0]
              for l in err.splitlines() if l.startswith("status: ")]
    stats = {}
    for l in err.splitlines():
        if l.startswith("stats: "):
            stats = dict(kv.split("=") for kv in l[7:].split())
            stats = {k: int(v) for k, v in stats.items()}
    return results, warnings, status, stats, secs, err


def compare(what, want, got):
    if want != got:
        fail("%s:\n  want %s\n  got  %s" % (what, json.dumps(want),
                                          json.dumps(got)))


def part_resolver(cases, dns_test, spamtrace, d):
    srv = Dnsmasq(cases["dnsmasq"])
    try:
        ips = [c["ip"] for c in cases["api"]]
        res, warns, status, stats, secs, _ = api(dns_test, srv.port, ips,
                                                 cases["dnsbl"])
    finally:
        srv.stop()
    compare("number of results", len(cases["api"]), len(res))
    for want, got in zip(cases["api"], res):
        compare("result for %s" % want["ip"], want, got)
    compare("status", [cases["api_status"]], status)
    compare("warnings", sorted(cases["api_warnings"]), sorted(warns))
    if stats.get("failed", -1) != 0:
        fail("queries failed against a live dnsmasq: %s" % stats)
    print("ok: %d addresses, %d zones, %d queries sent, %d from the run's "
          "cache, %.0f ms" % (len(ips), len(cases["dnsbl"]), stats["sent"],
                              stats["cache_hits"], secs * 1000))


def part_dead(cases, dns_test, spamtrace, d):
    hole = BlackHole()
    try:
        ips = ["198.51.100.10", "198.51.100.20", "203.0.113.5",
               "2001:db8::25"]
        res, warns, status, stats, secs, err = api(
            dns_test, hole.port, ips, ["bl.test", "clean.test"],
            ["--repeat", "2"])
        want = {"ptr": [], "fcrdns": None, "listed": [], "timed_out": True}
        for ip, got in zip(ips, res):
            compare("dead resolver, %s" % ip, {"ip": ip, "dns": want}, got)
        compare("results", len(ips), len(res))
        w = "resolver 127.0.0.1:%d did not answer within 3000 ms: DNS " \
            "results are partial" % hole.port
        if w not in warns:
            fail("no timeout warning; got %s" % warns)
        rounds = [l for l in err.splitlines() if l.startswith("status: ")]
        t1 = float(rounds[0].rsplit("(", 1)[1].split()[0])
        t2 = float(rounds[1].rsplit("(", 1)[1].split()[0])
        if not (2500 <= t1 <= 5000):
            fail("first batch took %.0f ms, want about 3000" % t1)
        if t2 > 200:
            fail("second batch took %.0f ms: a dead resolver must fail "
                 "fast" % t2)
        print("ok: library: %d queries, %d packets reached the black hole, "
              "batch 1 %.0f ms, batch 2 %.0f ms (dead: fail fast)" %
              (stats["sent"], hole.packets, t1, t2))

        # the CLI: every record printed, a warning, well within 20 s
        files = [os.path.join(d, f) for f in cases["cli_files"]]
        rc, out, err, secs = run([spamtrace, "trace", "--json", "--dns",
                                  "--resolver", "127.0.0.1:%d" % hole.port,
                                  "--dnsbl", "bl.test"] + files, timeout=25)
        recs = [json.loads(l) for l in out.splitlines()]
        compare("CLI records", len(files), len(recs))
        if secs >= 20:
            fail("CLI took %.1f s with a dead resolver" % secs)
        if "did not answer within" not in err:
            fail("CLI printed no timeout warning: %r" % err)
        for r in recs:
            o = r.get("origin")
            if o is None:
                fail("%s: origin is null: the trace analysis found no "
                     "origin, so --dns had nothing to look up" %
                     r["source"]["path"])
            dnsobj = o.get("dns")
            if not dnsobj or dnsobj.get("timed_out") is not True:
                fail("%s: origin.dns should say timed_out: %s" %
                     (r["source"]["path"], dnsobj))
        print("ok: CLI: %d records, exit %d, %.2f s, stderr: %s" %
              (len(recs), rc, secs, err.strip().replace("\n", " | ")))
    finally:
        hole.stop()

    # a live resolver with one blocklist whose servers never answer
    # (dnsmasq forwards slow.test to a black hole): the other answers
    # come, the zone is blamed, the resolver is not taken as dead
    hole = BlackHole()
    srv = Dnsmasq(cases["dnsmasq"] + ["--server=/slow.test/127.0.0.1#%d" %
                                      hole.port])
    try:
        ips = ["198.51.100.10", "198.51.100.20", "203.0.113.5"]
        res, warns, status, stats, secs, err = api(
            dns_test, srv.port, ips, ["bl.test", "slow.test"],
            ["--timeout", "1000"])
    finally:
        srv.stop()
        hole.stop()
    want = {c["ip"]: c["dns"] for c in cases["api"]}
    for ip, got in zip(ips, res):
        w = dict(want[ip], timed_out=True)
        compare("slow zone, %s" % ip, {"ip": ip, "dns": w}, got)
    compare("slow zone warnings", sorted([
        "blocklist slow.test: no answer within 1000 ms (through resolver "
        "127.0.0.1:%d): DNS results are partial" % srv.port,
        "blocklist slow.test does not answer: not asked for 30 s"]),
        sorted(warns))
    if secs > 5:
        fail("slow zone took %.1f s" % secs)
    print("ok: slow zone: %.0f ms, %s" % (secs * 1000, warns))

    # a closed port: refused at once, said so
    port = free_port()
    res, warns, status, stats, secs, err = api(dns_test, port,
                                               ["198.51.100.10"], [])
    if not any("refused the connection" in w for w in warns):
        fail("closed port: no 'refused' warning: %s" % warns)
    if secs > 5:
        fail("closed port took %.1f s" % secs)
    compare("closed port result", {"ip": "198.51.100.10", "dns": {
        "ptr": [], "fcrdns": None, "listed": [], "timed_out": True}},
        res[0])
    print("ok: closed port: %.0f ms, %s" % (secs * 1000, warns))


def part_cache(cases, dns_test, spamtrace, d):
    tmp = tempfile.mkdtemp(prefix="dns_cache_")
    try:
        db = os.path.join(tmp, "cache.sqlite")
        # only positive answers: dnsmasq sends no SOA with its negative
        # ones, and those are not stored (RFC 2308 5: no TTL to keep)
        ips = ["203.0.113.5", "198.51.100.20"]
        zones = ["bl.test"]
        srv = Dnsmasq(cases["dnsmasq"], ttl=300)
        try:
            r1, _, _, s1, _, _ = api(dns_test, srv.port, ips, zones,
                                     ["--cache", db])
        finally:
            srv.stop()
        if s1["disk_hits"] != 0 or s1["sent"] == 0:
            fail("first run should ask the server: %s" % s1)
        hole = BlackHole()
        try:
            r2, w2, _, s2, _, _ = api(dns_test, hole.port, ips, zones,
                                      ["--cache", db])
        finally:
            hole.stop()
        compare("answers from the cache file", r1, r2)
        if s2["sent"] != 0 or s2["disk_hits"] == 0:
            fail("second run should be served from the file: %s" % s2)
        print("ok: run 1 sent %d queries; run 2 (dead resolver) sent %d, "
              "%d from the file" % (s1["sent"], s2["sent"], s2["disk_hits"]))

        # TTL 1: gone a second later
        db2 = os.path.join(tmp, "short.sqlite")
        srv = Dnsmasq(cases["dnsmasq"], ttl=1)
        try:
            _, _, _, s3, _, _ = api(dns_test, srv.port, ips[:1], [],
                                    ["--cache", db2])
            time.sleep(1.5)
            _, _, _, s4, _, _ = api(dns_test, srv.port, ips[:1], [],
                                    ["--cache", db2])
        finally:
            srv.stop()
        if s4["disk_hits"] != 0 or s4["sent"] != s3["sent"]:
            fail("expired rows were used: %s then %s" % (s3, s4))
        print("ok: TTL 1 s: nothing served from the file 1.5 s later")

        # the CLI: "dns_cache = FILE" in the configuration
        conf = os.path.join(tmp, "spamtrace.conf")
        with open(conf, "w") as f:
            f.write("dns_cache = %s\ndnsbl = bl.test\n" %
                    os.path.join(tmp, "cli.sqlite"))
        eml = os.path.join(d, "dns_multi.eml")
        srv = Dnsmasq(cases["dnsmasq"], ttl=300)
        try:
            rc, o1, e1, _ = run([spamtrace, "trace", "--json", "--dns",
                                 "--config", conf, "--resolver",
                                 "127.0.0.1:%d" % srv.port, eml])
        finally:
            srv.stop()
        hole = BlackHole()
        try:
            rc, o2, e2, secs = run([spamtrace, "trace", "--json", "--dns",
                                    "--config", conf, "--resolver",
                                    "127.0.0.1:%d" % hole.port, eml])
        finally:
            hole.stop()
        d1 = json.loads(o1)["origin"]
        d2 = json.loads(o2)["origin"]
        if d1 is None:
            fail("CLI: origin is null: nothing was looked up")
        compare("CLI, answers from the cache file", d1.get("dns"),
                d2.get("dns"))
        if e2.strip() or secs > 2:
            fail("CLI second run should need no network: %.1f s, %r" %
                 (secs, e2))
        print("ok: CLI with dns_cache: second run %.0f ms, no warning" %
              (secs * 1000))
    finally:
        shutil.rmtree(tmp)


def part_cli(cases, dns_test, spamtrace, d):
    want = {c["ip"]: dict(c["dns"]) for c in cases["api"] if c["dns"]}
    for v in want.values():
        if v.get("timed_out") is False:
            del v["timed_out"]	 # the JSON writer prints it only when true
    full = {c["ip"]: c["dns"] for c in cases["api"] if c["dns"]}
    srv = Dnsmasq(cases["dnsmasq"])
    try:
        files = [os.path.join(d, f) for f in cases["cli_files"]]
        cmd = [spamtrace, "trace", "--json", "--dns", "--resolver",
               "127.0.0.1:%d" % srv.port]
        for z in cases["dnsbl"]:
            cmd += ["--dnsbl", z]
        rc, out, err, secs = run(cmd + files)
        # the batch API: every message's lookups at once
        bcmd = [dns_test, "--resolver", "127.0.0.1:%d" % srv.port]
        for z in cases["dnsbl"]:
            bcmd += ["--dnsbl", z]
        brc, bout, berr, bsecs = run(bcmd + ["--eml"] + files)
    finally:
        srv.stop()
    if brc != 0:
        fail("dns_test --eml exited %d: %s" % (brc, berr))
    brecs = [json.loads(l) for l in bout.splitlines()]
    compare("batch records", len(files), len(brecs))
    for f, r in zip(cases["cli_files"], brecs):
        ip = cases["cli_origins"][f]
        compare("batch API, %s" % f, {"file": os.path.join(d, f),
                                      "origin": ip, "dns": full[ip]}, r)
    print("ok: st_dns_lookup_traces on %d messages at once: %.0f ms, %s" %
          (len(brecs), bsecs * 1000, [l for l in berr.splitlines()
                                      if l.startswith("stats")]))
    recs = [json.loads(l) for l in out.splitlines()]
    compare("records", len(files), len(recs))
    checked = 0
    for f, r in zip(cases["cli_files"], recs):
        if r.get("error"):
            fail("%s: error %s" % (f, r["error"]))
        o = r.get("origin")
        if o is None:
            fail("%s: origin is null: the trace analysis found no origin, "
                 "so --dns had nothing to look up (test not vacuous)" % f)
        compare("%s origin ip" % f, cases["cli_origins"][f], o["ip"])
        places = [("origin", o)]
        if r.get("source_ip_estimate"):
            places.append(("source_ip_estimate", r["source_ip_estimate"]))
        places += [("relay hop %d" % x["hop"], x) for x in r["relays"]]
        for where, obj in places:
            ip = obj.get("ip")
            if ip in want:
                compare("%s: %s dns" % (f, where), want[ip], obj.get("dns"))
                checked += 1
    for w in cases["api_warnings"]:
        if "198.51.100.30" in w or "err.test" in w:
            continue	# those addresses are not in the messages
        if ("dns: " + w) not in err:
            fail("CLI warning missing: %s\nstderr: %s" % (w, err))
    if rc != 0:
        fail("exit status %d: %s" % (rc, err))
    print("ok: %d messages, %d dns objects checked, %.0f ms" %
          (len(recs), checked, secs * 1000))


def part_bench(cases, dns_test, spamtrace, d):
    n = int(os.environ.get("DNS_BENCH_N", "1000"))
    ips = ["198.51.%d.%d" % (100 + i // 250, 1 + i % 250) for i in range(n)]
    srv = Dnsmasq(cases["dnsmasq"] + ["--cache-size=0"])
    try:
        for zones in ([], ["bl.test"], ["bl.test", "clean.test"]):
            _, _, status, stats, secs, err = api(dns_test, srv.port, ips,
                                                 zones)
            print("bench: %d addresses, %d zones: %d queries, %.0f ms "
                  "(%s)" % (n, len(zones), stats["sent"], secs * 1000,
                            status))
    finally:
        srv.stop()


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    part, dns_test, spamtrace, d = sys.argv[1:]
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)
    globals()["part_" + part](cases, dns_test, spamtrace, d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
