#!/usr/bin/env python3
"""The Sisimai corpus mailboxes (../shared/corpus/bounces/mailbox): mbox-0
holds 37 messages and mbox-1 one; size-0/1/2 are edge cases with no From_
line, each a record of its own (with an error: empty, or not a message).
Skipped when ../shared is absent.

usage: check_corpus_mailbox.py SPAMTRACE SHARED_DIR
"""
import json, os, subprocess, sys

spamtrace, shared = sys.argv[1], sys.argv[2]
mdir = os.path.join(shared, "corpus", "bounces", "mailbox")
if not os.path.isdir(mdir):
    print("skipped: ../shared/corpus not found")
    sys.exit(77)
expect = {"mbox-0": (37, 0), "mbox-1": (1, 0), "size-0": (1, 1), "size-1": (1, 1), "size-2": (1, 1)}
passed = failed = 0
for name, (n, nerr) in sorted(expect.items()):
    p = subprocess.run([spamtrace, "trace", "--json", os.path.join(mdir, name)],
                       capture_output=True, timeout=60)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    errs = sum(1 for r in recs if r["error"])
    ok = len(recs) == n and errs == nerr and [r["source"]["index"] for r in recs] == list(range(n))
    print("ok  " if ok else "FAIL", name, "records", len(recs), "errors", errs)
    passed += ok
    failed += not ok
# the dos/ and mac/ twins trace like their bsd/ originals
for twin in ("dos", "mac"):
    tdir = os.path.join(shared, "corpus", "bounces", twin)
    for name in sorted(os.listdir(tdir)):
        orig = os.path.join(shared, "corpus", "bounces", "bsd", name)
        if not os.path.exists(orig):
            continue
        a = subprocess.run([spamtrace, "trace", "--json", orig], capture_output=True, timeout=60)
        b = subprocess.run([spamtrace, "trace", "--json", os.path.join(tdir, name)],
                           capture_output=True, timeout=60)
        ra = [json.loads(l) for l in a.stdout.decode().splitlines()]
        rb = [json.loads(l) for l in b.stdout.decode().splitlines()]
        for r in ra + rb:
            r.pop("source")
            for h in r.get("hops", []):
                h.pop("raw")
            for f in r.get("findings", []):
                f.pop("evidence")
            if isinstance(r.get("original"), dict):
                r.pop("original")
        ok = ra == rb
        if not ok:
            print("FAIL %s/%s differs from bsd/%s" % (twin, name, name))
        passed += ok
        failed += not ok
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
