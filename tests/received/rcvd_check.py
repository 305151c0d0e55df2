#!/usr/bin/env python3
"""rcvd_check.py - table tests for the Received parser (st_received_parse).

Every mode runs the small C driver (rcvd_test, built from rcvd_test.c and
linked to libspamtrace) over a TSV of header values and compares its rows.

  sa     --tsv spamassassin-rcvd.tsv --known sa-known-differences.tsv
         SpamAssassin's own table (t/rcvd_parser.t): every field of
         SpamAssassin's relay string after its rewrite of [ ] ( ) < > | #
         space NUL to '!'; auth compared as set/unset; an empty expected
         string (SpamAssassin skips the line) wants an empty ip or local=1.
         Differences listed in the known file (case, field, reason) are
         allowed; a listed difference that no longer differs fails too.
  cases  --cases cases.tsv
         our own table: every column compared, both ways.
  sweep  --root bounces/ --allow sweep-allow.tsv
         every Received header of the Sisimai corpus (with its continuation
         lines, in every file, LF / CRLF / CR line ends): lists the ones
         read with parsed=0; each must be in the allow-list, and every
         allow-list entry must still be unparsed.
  oracle (--root DIR | --tsv FILE) [--sa-out FILE] [--min PCT] [-v]
         per-field agreement with the live SpamAssassin parser (Debian
         package spamassassin, through sa_oracle.pl) on headers the parser
         was not tuned on; fails when a field is below --min percent.

Exit status 0 pass, 1 fail, 77 skipped (corpus missing).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

COLS = ["ip", "rdns", "helo", "by", "ident", "envfrom", "id", "auth", "with",
        "for", "tls", "mta", "parsed", "local", "rdns_unverified",
        "ip_from_helo", "date", "tz"]
SA_FIELDS = ["ip", "rdns", "helo", "by", "ident", "envfrom", "id", "auth"]
SA_RE = re.compile(r"^\[ ip=(.*?) rdns=(.*?) helo=(.*?) by=(.*?) ident=(.*?) "
                   r"envfrom=(.*?) intl=(.*?) id=(.*?) auth=(.*?) msa=(.*?) \]$")
BANG = re.compile(r"[\[\]()<>|# \x00\t\n]")


def skip(msg):
    print("skipped: " + msg)
    sys.exit(77)


def unesc(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "\\": "\\",
                                       "r": "\r", "0": "\0"}.get(m.group(1), "\\" + m.group(1)), s)


def run_driver(binary, lines):
    """lines: list of (key, escaped value); returns {key: {col: value}}."""
    with tempfile.NamedTemporaryFile("wb", delete=False, suffix=".tsv") as f:
        for k, v in lines:
            f.write(k.encode() + b"\t" + v + b"\n")
        name = f.name
    try:
        out = subprocess.run([binary, name], stdout=subprocess.PIPE,
                             check=True, timeout=600).stdout
    finally:
        os.unlink(name)
    res = {}
    for line in out.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        parts = line.split("\t")
        res[parts[0]] = dict(zip(COLS, [unesc(p) for p in parts[1:]]))
    return res


def bang(s):
    return BANG.sub("!", s)


def sa_expected(s):
    m = SA_RE.match(s)
    if not m:
        return None
    g = m.groups()
    return {"ip": g[0], "rdns": g[1], "helo": g[2], "by": g[3], "ident": g[4],
            "envfrom": g[5], "id": g[7], "auth": g[8]}


def sa_compare(hop, exp):
    """Yields (field, ours, theirs) for each disagreeing field."""
    if exp is None:
        if hop["ip"] != "" and hop["local"] != "1":
            yield ("skip", hop["ip"], "")
        return
    for f in SA_FIELDS:
        ours = hop[f]
        theirs = exp[f]
        if f == "auth":
            if (ours != "") != (theirs != ""):
                yield (f, ours, theirs)
            continue
        if f == "envfrom":
            ours = ours.strip().lstrip("<").rstrip(">")
        if bang(ours) != theirs:
            yield (f, bang(ours), theirs)


def read_table(path):
    rows = []
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            if not raw or raw.startswith(b"#"):
                continue
            rows.append(raw.split(b"\t"))
    return rows


def mode_sa(a):
    if not os.path.exists(a.tsv):
        skip("../shared/corpus not found (%s)" % a.tsv)
    rows = [r for r in read_table(a.tsv) if r[0] != b"case_number"]
    known = {}
    for r in read_table(a.known):
        known[(r[0].decode(), r[1].decode())] = r[2].decode() if len(r) > 2 else ""
    res = run_driver(a.rcvd, [(r[0].decode(), r[1]) for r in rows])
    total = {f: 0 for f in SA_FIELDS}
    agree = {f: 0 for f in SA_FIELDS}
    skips = skip_ok = 0
    fails = []
    seen_known = set()
    for r in rows:
        key = r[0].decode()
        exp_s = r[2].decode() if len(r) > 2 else ""
        exp = sa_expected(exp_s) if exp_s else None
        hop = res[key]
        diffs = list(sa_compare(hop, exp))
        if exp is None:
            skips += 1
            skip_ok += not diffs
        else:
            bad = {d[0] for d in diffs}
            for f in SA_FIELDS:
                total[f] += 1
                agree[f] += f not in bad
        for d in diffs:
            if (key, d[0]) in known:
                seen_known.add((key, d[0]))
                continue
            fails.append("case %s: %s: ours %r, SpamAssassin %r" % (key, d[0], d[1], d[2]))
    for k in known:
        if k not in seen_known:
            fails.append("case %s: %s: listed as a known difference but agrees now" % k)
    print("SpamAssassin table: %d cases (%d skipped by SpamAssassin: %d/%d have no ip or are local)"
          % (len(rows), skips, skip_ok, skips))
    for f in SA_FIELDS:
        print("  %-8s %3d/%3d agree" % (f, agree[f], total[f]))
    print("  known differences: %d" % len(known))
    for x in fails:
        print("FAIL " + x)
    return 1 if fails else 0


def mode_cases(a):
    rows = read_table(a.cases)
    header = None
    cases = []
    for r in rows:
        if r[0] == b"key":
            header = [c.decode() for c in r]
            continue
        cases.append(r)
    if header is None or header[1] != "value" or header[2:] != COLS:
        print("FAIL cases table header must be: key value " + " ".join(COLS))
        return 1
    res = run_driver(a.rcvd, [(r[0].decode(), r[1]) for r in cases])
    fails = 0
    keys = set()
    for r in cases:
        key = r[0].decode()
        if key in keys:
            print("FAIL %s: duplicate key" % key)
            fails += 1
        keys.add(key)
        if len(r) != len(header):
            print("FAIL %s: %d columns, want %d" % (key, len(r), len(header)))
            fails += 1
            continue
        want = dict(zip(COLS, [unesc(c.decode("utf-8", "replace")) for c in r[2:]]))
        got = res.get(key)
        for c in COLS:
            if got is None or got[c] != want[c]:
                print("FAIL %s: %s: got %r, want %r" % (key, c, got and got[c], want[c]))
                fails += 1
    print("cases: %d rows, %d mismatching fields" % (len(cases), fails))
    return 1 if fails else 0


def sweep_headers(root):
    """(key, escaped value) for every Received header under root."""
    out = []
    for dp, dn, fn in os.walk(root):
        dn.sort()
        for name in sorted(fn):
            path = os.path.join(dp, name)
            with open(path, "rb") as f:
                data = f.read()
            lines = re.split(rb"\r\n|\r|\n", data)
            i = 0
            while i < len(lines):
                if lines[i][:9].lower() == b"received:":
                    val = [lines[i][9:]]
                    j = i + 1
                    while j < len(lines) and lines[j][:1] in (b" ", b"\t") \
                            and lines[j].strip():
                        val.append(lines[j])
                        j += 1
                    v = b"\n".join(val)
                    v = v.replace(b"\\", b"\\\\").replace(b"\n", b"\\n") \
                         .replace(b"\t", b"\\t")
                    out.append(("%s:%d" % (os.path.relpath(path, root), i + 1), v))
                    i = j
                else:
                    i += 1
    return out


def mode_sweep(a):
    if not os.path.isdir(a.root):
        skip("../shared/corpus not found (%s)" % a.root)
    hdrs = sweep_headers(a.root)
    res = run_driver(a.rcvd, hdrs)
    allow = {}
    for r in read_table(a.allow):
        allow[r[0].decode()] = r[1].decode() if len(r) > 1 else ""
    fails = []
    unparsed = []
    for k, v in hdrs:
        if res[k]["parsed"] != "1":
            unparsed.append(k)
            if k not in allow:
                fails.append("%s: parsed=0 and not allow-listed: %s" % (k, v.decode("utf-8", "replace")))
            elif not allow[k].strip():
                fails.append("%s: allow-listed without a reason" % k)
    for k in allow:
        if k not in res:
            fails.append("%s: allow-listed but no such header" % k)
        elif res[k]["parsed"] == "1":
            fails.append("%s: allow-listed but parsed now" % k)
    with_ip = sum(1 for k, _ in hdrs if res[k]["ip"])
    print("sweep: %d Received headers in %s, %d parsed, %d with an address, "
          "%d unparsed (%d allow-listed)" % (len(hdrs), a.root, len(hdrs) - len(unparsed),
                                             with_ip, len(unparsed), len(allow)))
    for k in unparsed:
        print("  unparsed %s: %s" % (k, allow.get(k, "NOT ALLOW-LISTED")))
    for x in fails:
        print("FAIL " + x)
    return 1 if fails else 0


def mode_oracle(a):
    """Agreement with the live SpamAssassin parser on headers it has not
    been tuned on: the Sisimai corpus (--root) or any TSV (--tsv), run
    through sa_oracle.pl.  Fails only when a field falls below --min."""
    if a.root:
        if not os.path.isdir(a.root):
            skip("../shared/corpus not found (%s)" % a.root)
        rows = sweep_headers(a.root)
    else:
        rows = [(r[0].decode(), r[1]) for r in read_table(a.tsv) if len(r) > 1]
    if a.sa_out:
        sa_lines = [r for r in read_table(a.sa_out)]
    else:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sa_oracle.pl")
        probe = subprocess.run(["perl", "-MMail::SpamAssassin", "-e", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            skip("SpamAssassin (perl Mail::SpamAssassin) not installed")
        inp = b"".join(k.encode() + b"\t" + v + b"\n" for k, v in rows)
        out = subprocess.run(["perl", script], input=inp, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=True, timeout=600).stdout
        sa_lines = [l.split(b"\t") for l in out.split(b"\n") if l]
    sa = {r[0].decode(): (r[1].decode("utf-8", "replace") if len(r) > 1 else "")
          for r in sa_lines}
    res = run_driver(a.rcvd, rows)
    seen = set()
    total = {f: 0 for f in SA_FIELDS}
    agree = {f: 0 for f in SA_FIELDS}
    skips = skip_ok = exch = 0
    for k, v in rows:
        if v in seen and not a.all:
            continue
        seen.add(v)
        exp = sa_expected(sa.get(k, "")) if sa.get(k) else None
        diffs = list(sa_compare(res[k], exp))
        if exp is None:
            skips += 1
            skip_ok += not diffs
        else:
            bad = {d[0] for d in diffs}
            exch += res[k]["mta"] == "exchange"
            for f in SA_FIELDS:
                total[f] += 1
                agree[f] += f not in bad
        for d in diffs:
            if a.verbose:
                print("%s\t%s\tours=%r\tsa=%r\t%s" % (k, d[0], d[1], d[2],
                      v.decode("utf-8", "replace")[:300]))
    print("oracle: %d distinct headers, %d skipped by SpamAssassin (%d with no "
          "ip or local here); %d of the compared are Exchange lines"
          % (len(seen), skips, skip_ok, exch))
    low = []
    for f in SA_FIELDS:
        pct = 100.0 * agree[f] / max(total[f], 1)
        print("  %-8s %4d/%4d agree (%.1f%%)" % (f, agree[f], total[f], pct))
        if pct < a.min:
            low.append(f)
    for f in low:
        print("FAIL %s agreement below %.1f%%" % (f, a.min))
    return 1 if low else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["sa", "cases", "sweep", "oracle"])
    p.add_argument("--rcvd", required=True)
    p.add_argument("--tsv")
    p.add_argument("--known")
    p.add_argument("--cases")
    p.add_argument("--root")
    p.add_argument("--allow")
    p.add_argument("--sa-out")
    p.add_argument("--all", action="store_true")
    p.add_argument("--min", type=float, default=0.0)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args()
    sys.exit({"sa": mode_sa, "cases": mode_cases, "sweep": mode_sweep,
              "oracle": mode_oracle}[a.mode](a))


if __name__ == "__main__":
    main()
