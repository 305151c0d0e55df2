#!/usr/bin/env python3
"""check_cli_args.py - the -j option of trace and bounces is checked.

    check_cli_args.py SPAMTRACE ROWS.tsv EXAMPLES_DIR

Each row of ROWS.tsv: a command, the value given to -j, the exit status
expected and a text stderr must contain (empty: stderr must be empty).
A value that is not a whole number from 0 to 1024 is a usage error (exit
2) naming the value, not a silent default.  Exit 0 when every row holds.
"""
import subprocess
import sys


def main():
    cli, rows, examples = sys.argv[1], sys.argv[2], sys.argv[3]
    bad = n = 0
    for line in open(rows, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        cmd, val, want_rc, want_err = (line.rstrip("\n").split("\t") +
                                       [""])[:4]
        p = subprocess.run([cli, cmd, "--json", "-j", val, examples],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=60)
        err = p.stderr.decode("utf-8", "replace")
        n += 1
        ok = p.returncode == int(want_rc) and (
            want_err in err if want_err else err == "")
        if not ok:
            bad += 1
            print("FAIL: %s -j %r: exit %d (want %s), stderr %r" %
                  (cmd, val, p.returncode, want_rc, err[:200]))
    print("%d rows, %d failed" % (n, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
