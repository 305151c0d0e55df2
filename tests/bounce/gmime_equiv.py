#!/usr/bin/env python3
"""gmime_equiv.py - the fast MIME reader gives what GMime gives.

    gmime_equiv.py SPAMTRACE SHARED DIR...

lib/bounce reads the common shapes of bounces without GMime and hands
the rest to GMime (fast_entity() and gm_headers() in bounce.c); the
environment variable ST_BOUNCE_GMIME makes it use GMime for everything.
For `bounces --json` and `trace --json` over the given folders (the
hand-made shapes in gmime/: lines dropped from header blocks, missing
boundaries, what must be handed over) and, when SHARED is there, the
real bounces of SHARED/corpus/bounces (bsd/, mailbox/), the two ways
must give the same record for every message.  Exit 0, 1 on a
difference (each one named), 2 on a usage or run error.
"""
import os
import subprocess
import sys


def run(cli, cmd, paths, gmime):
    env = dict(os.environ)
    env.pop("ST_BOUNCE_GMIME", None)
    if gmime:
        env["ST_BOUNCE_GMIME"] = "1"
    p = subprocess.run([cli, cmd, "--json", "-j", "1"] + paths, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=600)
    if p.returncode not in (0, 1):
        print("FAIL: %s %s exited %d" % (cmd, " ".join(paths),
                                         p.returncode))
        sys.exit(2)
    return p.stdout.decode("utf-8", "replace").splitlines()


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    cli, shared, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
    paths = []
    for d in dirs:
        paths += sorted(os.path.join(d, f) for f in os.listdir(d)
                        if f.endswith(".eml"))
    corpus = os.path.join(shared, "corpus", "bounces")
    if os.path.isdir(corpus):
        paths += [os.path.join(corpus, "bsd"), os.path.join(corpus,
                                                            "mailbox")]
    else:
        print("note: %s not found: the hand-made shapes only" % corpus)
    bad = 0
    for cmd in ("bounces", "trace"):
        fast = run(cli, cmd, paths, False)
        slow = run(cli, cmd, paths, True)
        if len(fast) != len(slow):
            print("FAIL: %s: %d records without GMime, %d with" %
                  (cmd, len(fast), len(slow)))
            bad += 1
            continue
        for a, b in zip(fast, slow):
            if a != b:
                bad += 1
                print("FAIL: %s: differs: %s" % (cmd, a[:160]))
        print("%s: %d records compared" % (cmd, len(fast)))
    if bad:
        print("%d difference(s)" % bad)
        return 1
    print("ok: the fast reader and GMime agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
