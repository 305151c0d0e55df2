#!/usr/bin/env python3
"""check_sqlite.py - the SQLite recipe of docs/scaling.md stays true.

    check_sqlite.py SPAMTRACE SOURCE_DIR

Runs "spamtrace trace --json" on the examples (01 three times, 02 twice, 03
once, so the ranking has an order), loads the output with
bench/scaling/load-sqlite, runs bench/scaling/origins.sql with sqlite3 and
checks its first two tables (origins ranked, origins of the bounced
originals) both against origins.expected and against the same ranking
computed here from the JSON.  Exit 77 (skip) when sqlite3 is missing.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def tables(text):
    """Parse sqlite3 .mode column output into {header: [rows]}."""
    out, cur, lines = {}, None, text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and set(lines[i + 1].replace(" ", "")) == {"-"}:
            cur = line.split()[0]
            out[cur] = []
            i += 2
            continue
        if cur is not None and line.strip():
            out[cur].append(line.split())
        i += 1
    return out


def main():
    if len(sys.argv) != 3:
        print("usage: check_sqlite.py SPAMTRACE SOURCE_DIR", file=sys.stderr)
        return 2
    st, src = sys.argv[1], sys.argv[2]
    if shutil.which("sqlite3") is None:
        print("skipped: sqlite3 not found (Debian package sqlite3)")
        return 77
    ex = os.path.join(src, "examples")
    names = ["01-joe-job-bounce.eml"] * 3 + \
        ["02-dialup-via-ne-jp-relay.eml"] * 2 + ["03-qmail-lan-dynamic.eml"]
    p = subprocess.run([st, "trace", "--json"] +
                       [os.path.join(ex, n) for n in names],
                       capture_output=True, timeout=60)
    if p.returncode not in (0, 1):
        print("FAIL: spamtrace exit %d: %s" % (p.returncode, p.stderr))
        return 1
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    fails = []
    if len(recs) != len(names):
        fails.append("%d records for %d messages" % (len(recs), len(names)))

    # The same ranking, computed from the JSON here.
    cnt = collections.Counter()
    orgs = {}
    bounced = collections.Counter()
    for r in recs:
        o = r.get("origin")
        if o and o.get("ip"):
            cnt[o["ip"]] += 1
            orgs[o["ip"]] = o.get("org", "")
        ot = ((r.get("original") or {}).get("trace") or {}).get("origin")
        if ot and ot.get("ip"):
            bounced[ot["ip"]] += 1
    mine = {"origins": [[ip, orgs[ip], str(n)] for ip, n in
                        sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))],
            "bounced": [[ip, str(n)] for ip, n in
                        sorted(bounced.items(), key=lambda kv: (-kv[1], kv[0]))]}

    want = {"origins": [], "bounced": []}
    with open(os.path.join(HERE, "origins.expected")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            want[cols[0]].append(cols[1:])

    with tempfile.TemporaryDirectory() as tmp:
        jl = os.path.join(tmp, "traces.jsonl")
        with open(jl, "wb") as f:
            f.write(p.stdout)
        db = os.path.join(tmp, "traces.db")
        load = os.path.join(src, "bench", "scaling", "load-sqlite")
        q = subprocess.run(["sh", load, db, jl], capture_output=True,
                           text=True, timeout=60)
        if q.returncode != 0:
            print("FAIL: load-sqlite: %s" % q.stderr)
            return 1
        with open(os.path.join(src, "bench", "scaling", "origins.sql")) as f:
            q = subprocess.run(["sqlite3", db], stdin=f, capture_output=True,
                               text=True, timeout=60)
        if q.returncode != 0 or q.stderr:
            print("FAIL: origins.sql: %s" % q.stderr)
            return 1
        # Loading a second time from standard input doubles every count.
        with open(jl, "rb") as f:
            r2 = subprocess.run(["sh", load, db], stdin=f,
                                capture_output=True, timeout=60)
        n2 = subprocess.run(["sqlite3", db, "SELECT count(*) FROM trace"],
                            capture_output=True, text=True).stdout.strip()
        if r2.returncode != 0 or n2 != str(2 * len(names)):
            fails.append("load from stdin: %s rows, want %d (%s)"
                         % (n2, 2 * len(names), r2.stderr))
    got = tables(q.stdout)
    got = {"origins": got.get("origin_ip", []),
           "bounced": got.get("bounced_from_ip", [])}
    for k in ("origins", "bounced"):
        if got[k] != mine[k]:
            fails.append("%s: SQL gives %s, the JSON says %s"
                         % (k, got[k], mine[k]))
        if got[k] != want[k]:
            fails.append("%s: SQL gives %s, origins.expected says %s"
                         % (k, got[k], want[k]))
    for f in fails:
        print("FAIL: " + f)
    if not fails:
        print("ok: origins ranked %s; bounced originals %s"
              % (got["origins"], got["bounced"]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
