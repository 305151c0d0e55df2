#!/usr/bin/env python3
"""Golden cases for `spamtrace bounces`: tests/bounce/cases/NAME.eml (or
.mbox) with NAME.json, the expected output.  NAME.args, when present, holds
extra command-line arguments (one per line).

For a message file, NAME.json is the first record with "source" left out
and the original's "trace" replaced by the string "<trace>" (the trace has
its own tests; here it must only be an object with "hops").  For a mailbox,
NAME.json is {"summary": {...}}: the summary object, compared whole.  The
comparison is two-way: a missing or an unexpected field fails.

usage: run_cases.py SPAMTRACE CASES_DIR [--update]
"""
import glob
import json
import os
import subprocess
import sys


def run(cli, path, args):
    p = subprocess.run([cli, "bounces", "--json", *args, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]


def strip(rec):
    rec = dict(rec)
    rec.pop("source", None)
    o = rec.get("original")
    if isinstance(o, dict):
        o = dict(o)
        t = o.get("trace")
        if t is not None:
            if not isinstance(t, dict) or "hops" not in t:
                o["trace"] = "<bad trace>"
            else:
                o["trace"] = "<trace>"
        rec["original"] = o
    return rec


def main():
    cli, cases = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv
    passed = failed = 0
    for src in sorted(glob.glob(os.path.join(cases, "*.eml")) +
                      glob.glob(os.path.join(cases, "*.mbox"))):
        base = os.path.splitext(src)[0]
        args = []
        if os.path.exists(base + ".args"):
            with open(base + ".args") as f:
                args = [l.strip() for l in f if l.strip()]
        recs = run(cli, src, args)
        if src.endswith(".mbox"):
            got = {"summary": recs[-1]["summary"]} if recs and "summary" in recs[-1] else None
        else:
            got = strip(recs[0]) if recs else None
        if update:
            with open(base + ".json", "w", encoding="utf-8") as f:
                json.dump(got, f, indent=1, ensure_ascii=False, sort_keys=True)
                f.write("\n")
            continue
        with open(base + ".json", encoding="utf-8") as f:
            want = json.load(f)
        if got == want:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {os.path.basename(src)}")
            print("  want:", json.dumps(want, sort_keys=True)[:3000])
            print("  got: ", json.dumps(got, sort_keys=True)[:3000])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
