#!/usr/bin/python3
"""py-headers.py - the Python side of the trace benchmark.

    /usr/bin/python3 py-headers.py MBOX

Splits the mbox on From_ lines (streaming, one message in memory) and
parses every message's header section with the standard library:
email.parser.BytesHeaderParser(policy=email.policy.default), then reads
all its Received headers (which makes the default policy parse each one into
a header object).  This is only header parsing - no relay extraction - so it
is a floor for any Python tool, not a tool doing the same work.  Prints:
  BENCH tool=python-email messages=N received=R seconds=S cpu=C
"""
import sys
import time
from email import policy
from email.parser import BytesHeaderParser


def main():
    if len(sys.argv) != 2:
        print("usage: py-headers.py MBOX", file=sys.stderr)
        return 2
    parser = BytesHeaderParser(policy=policy.default)
    n = received = 0
    t0 = time.perf_counter()
    c0 = time.process_time()

    def one(lines):
        nonlocal n, received
        msg = parser.parsebytes(b"".join(lines))
        for h in msg.get_all("Received") or ():
            received += 1 if len(str(h)) >= 0 else 0
        n += 1

    cur = []
    prev_blank = True
    with open(sys.argv[1], "rb", buffering=1 << 20) as f:
        for line in f:
            if prev_blank and line.startswith(b"From "):
                if cur:
                    one(cur)
                cur = []
                prev_blank = False
                continue
            cur.append(line)
            prev_blank = line in (b"\n", b"\r\n")
    if cur:
        one(cur)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print("BENCH tool=python-email messages=%d received=%d seconds=%.3f cpu=%.3f"
          % (n, received, secs, cpu))
    return 0


if __name__ == "__main__":
    sys.exit(main())
