#!/usr/bin/env python3
"""check_chunks.py - the chunking recipes of docs/scaling.md stay true.

    check_chunks.py SPAMTRACE SOURCE_DIR

Builds a small mbox from the repository's own messages (examples/,
tests/trace/legit, tests/trace/cases), then checks that each way of cutting
the work gives the same records in the same order as one plain run
(compared by source index within the mbox, Message-ID and origin):
  - bench/scaling/split-mbox into chunks: the chunks concatenate back to the
    input byte for byte, and bench/scaling/mapper over the chunk names
    (local files, and with ST_FETCH=cat as for HDFS) gives every record;
  - GNU parallel --keep-order over the chunk files, and parallel --pipe
    --recstart 'From ' over the whole mbox (skipped when parallel is not
    installed: Debian package parallel, scripts/install-deps --bench).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile


def key(rec):
    o = rec.get("origin") or {}
    return (rec.get("message_id"), o.get("ip"), rec.get("error"))


def records(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def main():
    if len(sys.argv) != 3:
        print("usage: check_chunks.py SPAMTRACE SOURCE_DIR", file=sys.stderr)
        return 2
    st, src = os.path.abspath(sys.argv[1]), sys.argv[2]
    scaling = os.path.join(src, "bench", "scaling")
    files = sorted(glob.glob(os.path.join(src, "examples", "*.eml")) +
                   glob.glob(os.path.join(src, "tests", "trace", "legit",
                                          "*.eml")) +
                   glob.glob(os.path.join(src, "tests", "trace", "cases",
                                          "*.eml")))
    fails = []
    with tempfile.TemporaryDirectory() as tmp:
        mbox = os.path.join(tmp, "all.mbox")
        n = 0
        with open(mbox, "wb") as out:
            for rep in range(2):
                for p in files:
                    with open(p, "rb") as f:
                        raw = f.read().replace(b"\r\n", b"\n")
                    if raw.startswith(b"From "):
                        raw = raw.split(b"\n", 1)[1]
                    lines = [b">" + l if l.lstrip(b">").startswith(b"From ")
                             else l for l in raw.split(b"\n")]
                    out.write(b"From bench@example Sat Mar 11 12:51:40 2006\n")
                    out.write(b"\n".join(lines).rstrip(b"\n") + b"\n\n")
                    n += 1
        plain = subprocess.run([st, "trace", "--json", mbox],
                               capture_output=True, text=True, timeout=120)
        base = [key(r) for r in records(plain.stdout)]
        if len(base) != n:
            fails.append("plain run: %d records for %d messages"
                         % (len(base), n))

        chunks = os.path.join(tmp, "chunks")
        r = subprocess.run(["sh", os.path.join(scaling, "split-mbox"), "4",
                            chunks, mbox], capture_output=True, text=True)
        names = sorted(glob.glob(os.path.join(chunks, "chunk-*.mbox")))
        joined = b"".join(open(c, "rb").read() for c in names)
        if r.returncode != 0 or joined != open(mbox, "rb").read():
            fails.append("split-mbox: chunks do not concatenate to the "
                         "input (%s)" % r.stderr)
        if len(names) != (n + 3) // 4:
            fails.append("split-mbox: %d chunks for %d messages by 4"
                         % (len(names), n))

        env = dict(os.environ, SPAMTRACE=st)
        listing = "".join(c + "\n" for c in names)

        def check(label, cmd, **kw):
            p = subprocess.run(cmd, input=kw.get("stdin", listing),
                               capture_output=True, text=True, timeout=120,
                               env=kw.get("env", env))
            got = [key(x) for x in records(p.stdout)]
            if p.returncode not in (0, 1) or got != base:
                fails.append("%s: exit %d, %d records, same order as the "
                             "plain run: %s %s" % (
                                 label, p.returncode, len(got), got == base,
                                 p.stderr[-300:]))
            else:
                print("ok: %s: %d records in order" % (label, len(got)))

        mapper = ["sh", os.path.join(scaling, "mapper")]
        check("mapper (local files)", mapper)
        check("mapper (ST_FETCH=cat)", mapper,
              env=dict(env, ST_FETCH="cat"))
        check("mapper (Hadoop offset<TAB>name lines)", mapper,
              stdin="".join("%d\t%s\n" % (i * 100, c)
                            for i, c in enumerate(names)))
        if shutil.which("parallel") is None:
            print("skipped: GNU parallel not installed: parallel checks "
                  "not run")
        else:
            check("parallel --keep-order over chunk files",
                  ["parallel", "--will-cite", "--keep-order", "-j", "2",
                   st, "trace", "--json", "-j", "1", "{}"])
            with open(mbox) as f:
                text = f.read()
            check("parallel --pipe --recstart 'From '",
                  ["parallel", "--will-cite", "--pipe", "--keep-order",
                   "--recstart", "From ", "--block", "8k", "-j", "2",
                   st, "trace", "--json", "-j", "1", "-"], stdin=text)
    for f in fails:
        print("FAIL: " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
