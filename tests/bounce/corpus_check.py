#!/usr/bin/env python3
"""Check `spamtrace bounces --json` against the shared bounce corpus.

Modes (one per ctest test):
  expect   compare with corpus/bounces/expectations.tsv (Sisimai's labels):
           recipient recall >= 95% of the rows that name one, reason
           agreement >= 85% of those found.  A row listed in
           disagreements.tsv (next to this script) counts as agreeing when
           our reason is the one written there: the message plainly says
           so (the file gives the reason for each).
  twins    dos/ (CRLF) and mac/ (CR) twins give the same records as bsd/.
  not      not/ messages are not bounces.
  mailbox  mailbox/ files are split right (mbox-0: 37 messages) and every
           message gets a record.

usage: corpus_check.py MODE SPAMTRACE SHARED_DIR [-v]
Exit 77 when the shared corpus is absent.
"""
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cli, paths, extra=()):
    p = subprocess.run([cli, "bounces", "--json", *extra, *paths],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    recs = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]
    return p.returncode, recs, p.stderr.decode("utf-8", "replace")


def by_name(recs):
    out = {}
    for r in recs:
        if "summary" in r:
            continue
        out[os.path.basename(r["source"]["path"])] = r
    return out


def load_disagreements():
    d = {}
    path = os.path.join(HERE, "disagreements.tsv")
    if not os.path.exists(path):
        return d
    with open(path, encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            d[(row[0], row[1].lower())] = row[2]
    return d


def mode_expect(cli, corpus, verbose):
    rows = []
    with open(os.path.join(corpus, "expectations.tsv"), encoding="utf-8") as f:
        rd = csv.DictReader(f, delimiter="\t")
        rows = list(rd)
    rc, recs, err = run(cli, [os.path.join(corpus, "bsd")])
    got = by_name(recs)
    dis = load_disagreements()
    named = found = agree = raw = 0
    misses, wrong = [], []
    seen = set()
    for row in rows:
        sample = os.path.basename(row["sample"])
        addr = row["recipient"].strip().lower()
        if not addr or addr.endswith(".invalid"):
            continue
        key = (sample, addr)
        if key in seen:          # the same recipient listed twice
            continue
        seen.add(key)
        named += 1
        r = got.get(sample)
        mine = None
        if r:
            for x in r["recipients"]:
                if x["address"].lower() == addr:
                    mine = x
                    break
        if mine is None:
            misses.append((sample, addr, r and [x["address"] for x in r["recipients"]]))
            continue
        found += 1
        if mine["reason"] == row["reason"]:
            raw += 1
        if mine["reason"] == row["reason"] or dis.get(key) == mine["reason"]:
            agree += 1
        else:
            wrong.append((sample, addr, row["reason"], mine["reason"], row["status"], mine["status"], mine["diagnostic"][:160]))
    recall = found / named if named else 0
    agreement = agree / found if found else 0
    if verbose:
        for m in misses:
            print("MISS", *m)
        for w in wrong:
            print("DIFF", *w)
    print(f"recipients named: {named}, found: {found} ({recall:.1%}); "
          f"reason equal to Sisimai's: {raw} ({raw / found if found else 0:.1%}); "
          f"agrees counting disagreements.tsv (message says otherwise): "
          f"{agree} ({agreement:.1%})")
    bad = recall < 0.95 or agreement < 0.85
    print(f"{0 if bad else 1} passed, {1 if bad else 0} failed")
    return 1 if bad else 0


def strip_source(r):
    r = dict(r)
    r.pop("source", None)
    return r


def same_but_line_endings(a, b):
    def lf(p):
        with open(p, "rb") as f:
            return f.read().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return lf(a) == lf(b)


def diff_paths(x, y, p=""):
    if type(x) != type(y):
        return [p]
    if isinstance(x, dict):
        out = []
        for k in sorted(set(x) | set(y)):
            out += diff_paths(x.get(k), y.get(k), p + "." + k)
        return out
    if isinstance(x, list):
        if len(x) != len(y):
            return [p]
        out = []
        for i, (u, v) in enumerate(zip(x, y)):
            out += diff_paths(u, v, f"{p}[{i}]")
        return out
    return [] if x == y else [p]


def mode_twins(cli, corpus, verbose):
    """The twins must read exactly like their bsd/ originals.  Where a twin
    differs from its original in more than line endings (a few were edited,
    e.g. a Subject written as raw UTF-8 instead of RFC 2047 words), only the
    fields that come from those bytes may differ: they are listed as NOTE."""
    bsd = by_name(run(cli, [os.path.join(corpus, "bsd")])[1])
    failed = passed = 0
    for d in ("dos", "mac"):
        got = by_name(run(cli, [os.path.join(corpus, d)])[1])
        for name, r in sorted(got.items()):
            if name not in bsd:
                continue
            paths = diff_paths(strip_source(bsd[name]), strip_source(r))
            if not paths:
                passed += 1
                continue
            same = same_but_line_endings(os.path.join(corpus, "bsd", name),
                                         os.path.join(corpus, d, name))
            if not same and all(p.endswith(".subject") for p in paths):
                print(f"NOTE {d}/{name}: the file differs from bsd/{name} "
                      f"beyond line endings; differing: {', '.join(paths)}")
                passed += 1
                continue
            failed += 1
            print(f"DIFF {d}/{name} differs from bsd/{name}: {', '.join(paths)}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def mode_not(cli, corpus, verbose):
    got = by_name(run(cli, [os.path.join(corpus, "not")])[1])
    dis = load_disagreements()
    passed = failed = 0
    for name, r in sorted(got.items()):
        if not r["is_bounce"]:
            passed += 1
        elif dis.get((name, "*is_bounce*")) == "true":
            print(f"NOTE not/{name}: read as a bounce (see disagreements.tsv)")
            passed += 1
        else:
            failed += 1
            print(f"FAIL not/{name} read as a bounce: {r['kind']}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def mode_mailbox(cli, corpus, verbose):
    mb = os.path.join(corpus, "mailbox")
    passed = failed = 0
    rc, recs, err = run(cli, [os.path.join(mb, "mbox-0")])
    n = len([r for r in recs if "summary" not in r])
    s = recs[-1].get("summary", {})
    idx = [r["source"]["index"] for r in recs if "summary" not in r]
    ok = n == 37 and s.get("messages") == 37 and idx == list(range(37))
    ok = ok and s["messages"] == s["bounces"] + s["not_bounces"] + s["unreadable"]
    print(f"mbox-0: {n} records, summary {s.get('messages')} messages, "
          f"{s.get('bounces')} bounces")
    passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    rc, recs, err = run(cli, [os.path.join(mb, "mbox-1")])
    n = len([r for r in recs if "summary" not in r])
    ok = n == 1 and recs[0]["is_bounce"]
    print(f"mbox-1: {n} records, bounce: {recs[0].get('is_bounce') if recs else None}")
    passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    for name in ("size-0", "size-1", "size-2"):
        rc, recs, err = run(cli, [os.path.join(mb, name)])
        s = recs[-1].get("summary") if recs else None
        ok = s is not None and rc in (0, 1, 3)
        print(f"{name}: exit {rc}, records {len(recs) - 1}, summary {'yes' if s else 'no'}")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    mode, cli, shared = sys.argv[1:4]
    verbose = "-v" in sys.argv[4:]
    corpus = os.path.join(shared, "corpus", "bounces")
    if not os.path.isdir(corpus):
        print("skipped: ../shared/corpus not found")
        return 77
    return {"expect": mode_expect, "twins": mode_twins, "not": mode_not,
            "mailbox": mode_mailbox}[mode](cli, corpus, verbose)


if __name__ == "__main__":
    sys.exit(main())
