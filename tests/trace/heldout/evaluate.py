#!/usr/bin/env python3
"""Held-out-style evaluation of `spamtrace trace --json`.

Each NAME.eml here is a realistic message (headers modelled on what the
real MTAs write; names and addresses invented) and NAME.expect.json is the
answer a human analyst would give -- not what the program prints:

  origin    {"ip": "...", "also_ok": [...]} or null
  source    {"ip": "...", "also_ok": [...]} or null
  relays    {"host-or-ip": "role" | "role|role"}: roles other than
            recipient-side; the program must give each listed host that
            role and give no other host a non-recipient-side role
  present   [["CODE", "high" | "medium|low" | "*"]]: findings that must fire
            with one of the listed severities
  absent    ["CODE", ...]: findings that must not fire
  no_high   true: no finding of severity high may fire (legitimate mail)
  contacts  ["abuse@...", ...]: the exact set of contact addresses
  contacts_also_ok  [...]: extra addresses that are tolerated
  original  {same keys}: for a bounce, the expectation for the carried
            original's trace (compared with the program's "original.trace")
  arguable  free text: where the expectation could be argued either way

Options for the run come from an optional first line "X-Test-Args: ...".
Not registered with ctest on purpose (the lead decides).

usage: evaluate.py [SPAMTRACE] [--verbose] [NAME...]
"""
import glob, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["origin", "source", "relays", "present", "absent", "contacts"]


def run(spamtrace, path):
    args = []
    with open(path, "rb") as f:
        first = f.readline().decode("latin-1")
    if first.startswith("X-Test-Args:"):
        args = first.split(":", 1)[1].split()
    out = subprocess.run([spamtrace, "trace", "--json"] + args + [path],
                         capture_output=True, timeout=60)
    lines = out.stdout.decode("utf-8", "replace").splitlines()
    if len(lines) != 1:
        raise RuntimeError("expected 1 record, got %d (rc %d, stderr %s)" %
                           (len(lines), out.returncode, out.stderr.decode()[:200]))
    return json.loads(lines[0])


def ip_ok(exp, got):
    if exp is None:
        return got is None, "null"
    want = [exp["ip"]] + exp.get("also_ok", [])
    g = got["ip"] if got else None
    return g in want, " or ".join(want)


def compare(exp, d):
    """-> {field: (ok, expected-text, got-text)}"""
    res = {}
    if "origin" in exp:
        ok, w = ip_ok(exp["origin"], d.get("origin"))
        g = d.get("origin")
        res["origin"] = (ok, w, "%s (%s)" % (g["ip"], g.get("rdns") or g.get("helo")) if g else "null")
    if "source" in exp:
        ok, w = ip_ok(exp["source"], d.get("source_ip_estimate"))
        g = d.get("source_ip_estimate")
        res["source"] = (ok, w, "%s [%s]" % (g["ip"], g.get("why", "")[:90]) if g else "null")
    if "relays" in exp:
        got = {}
        for r in d.get("relays", []):
            if r["role"] != "recipient-side":
                got[(r["host"] or r["ip"]).lower()] = r["role"]
        bad = []
        for h, role in exp["relays"].items():
            g = got.pop(h.lower(), None)
            if g is None:
                # matched by address?
                for r in d.get("relays", []):
                    if r["ip"] == h and r["role"] != "recipient-side":
                        g = r["role"]
                        got.pop((r["host"] or r["ip"]).lower(), None)
            if (g or "none") not in role.split("|"):
                bad.append("%s: want %s, got %s" % (h, role, g or "none"))
        for h, g in got.items():
            bad.append("%s: unexpected role %s" % (h, g))
        res["relays"] = (not bad, json.dumps(exp["relays"]), "; ".join(bad) or "ok")
    fmap = {}
    for f in d.get("findings", []):
        fmap.setdefault(f["code"], []).append(f)
    if "present" in exp:
        bad = []
        for code, sev in exp["present"]:
            fs = fmap.get(code, [])
            if not fs:
                bad.append("%s missing" % code)
            elif sev != "*" and not any(f["severity"] in sev.split("|") for f in fs):
                bad.append("%s is %s, want %s" % (code, "/".join(f["severity"] for f in fs), sev))
        res["present"] = (not bad, " ".join("%s/%s" % (c, s) for c, s in exp["present"]) or "-",
                          "; ".join(bad) or "ok")
    if "absent" in exp or exp.get("no_high"):
        bad = ["%s/%s fired (ev: %s)" % (c, f["severity"], f.get("evidence", "")[:80])
               for c in exp.get("absent", []) for f in fmap.get(c, [])]
        if exp.get("no_high"):
            bad += ["high %s on legit mail (ev: %s)" % (f["code"], f.get("evidence", "")[:80])
                    for f in d.get("findings", []) if f["severity"] == "high"
                    and f["code"] not in exp.get("absent", [])]
        res["absent"] = (not bad, "not: " + " ".join(exp.get("absent", [])) +
                         (" (no high)" if exp.get("no_high") else ""), "; ".join(bad) or "ok")
    if "contacts" in exp:
        got = {c["address"].lower() for c in d.get("contacts", [])}
        want = {a.lower() for a in exp["contacts"]}
        tol = {a.lower() for a in exp.get("contacts_also_ok", [])}
        miss = want - got
        extra = got - want - tol
        ok = not miss and not extra
        res["contacts"] = (ok, " ".join(sorted(want)) or "-",
                           ("missing " + " ".join(sorted(miss)) if miss else "") +
                           (" extra " + " ".join(sorted(extra)) if extra else "") or "ok")
    return res


def main():
    skip = set()
    if "--dir" in sys.argv:
        skip.add(sys.argv.index("--dir") + 1)
    argv = [a for i, a in enumerate(sys.argv[1:], 1)
            if not a.startswith("--") and i not in skip]
    verbose = "--verbose" in sys.argv
    spamtrace = argv[0] if argv and os.path.exists(argv[0]) and not argv[0].endswith(".eml") \
        else os.path.join(HERE, "..", "..", "..", "build", "spamtrace")
    names = argv[1:] if argv and os.path.exists(argv[0]) else argv
    # --dir DIR: another set of NAME.eml + NAME.expect.json (heldout2)
    cases = HERE
    if "--dir" in sys.argv:
        cases = sys.argv[sys.argv.index("--dir") + 1]
    emls = sorted(glob.glob(os.path.join(cases, "*.eml")))
    if names:
        emls = [e for e in emls if os.path.basename(e)[:-4] in names]
    per = {f: [0, 0] for f in FIELDS}
    kinds = {}
    rows, disagreements = [], []
    for e in emls:
        name = os.path.basename(e)[:-4]
        with open(e[:-4] + ".expect.json") as f:
            exp = json.load(f)
        try:
            d = run(spamtrace, e)
        except Exception as ex:  # noqa
            rows.append((name, {f: None for f in FIELDS}))
            disagreements.append((name, "run", "", str(ex)))
            for fld in FIELDS:
                per[fld][1] += 1
            continue
        res = compare(exp, d)
        if "original" in exp:
            o = (d.get("original") or {}).get("trace")
            if o is None:
                res["orig"] = (False, "original trace", "none")
            else:
                for k, v in compare(exp["original"], o).items():
                    prev = res.get(k)
                    if prev is None:
                        res[k] = (v[0], "orig: " + v[1], "orig: " + v[2])
                    else:
                        res[k] = (prev[0] and v[0], prev[1] + " | orig: " + v[1],
                                  prev[2] + " | orig: " + v[2])
        k = kinds.setdefault(exp.get("kind", "?"), [0, 0])
        for fld, (ok, w, g) in res.items():
            p = per.setdefault(fld, [0, 0])
            p[1] += 1
            k[1] += 1
            if ok:
                p[0] += 1
                k[0] += 1
            else:
                disagreements.append((name, fld, w, g))
        rows.append((name, {f: (res[f][0] if f in res else None) for f in FIELDS}))
    w = max(len(r[0]) for r in rows) if rows else 10
    print("%-*s  %s" % (w, "case", "  ".join("%-8s" % f for f in FIELDS)))
    for name, r in rows:
        print("%-*s  %s" % (w, name, "  ".join("%-8s" % ("-" if r[f] is None else ("ok" if r[f] else "FAIL"))
                                            for f in FIELDS)))
    print()
    tot = [0, 0]
    for f in per:
        a, n = per[f]
        tot[0] += a
        tot[1] += n
        if n:
            print("%-10s %3d/%-3d %5.1f%%" % (f, a, n, 100.0 * a / n))
    for kd, (a, n) in sorted(kinds.items()):
        print("%-10s %3d/%-3d %5.1f%%  (%s messages)" % ("kind", a, n, 100.0 * a / n if n else 0, kd))
    print("%-10s %3d/%-3d %5.1f%%" % ("overall", tot[0], tot[1], 100.0 * tot[0] / tot[1] if tot[1] else 0))
    allok = sum(1 for _, r in rows if all(v in (True, None) for v in r.values()))
    print("messages fully right: %d/%d" % (allok, len(rows)))
    print("\nDisagreements (expected | program):")
    for name, fld, wnt, got in disagreements:
        print("  %s [%s]\n      want: %s\n      got:  %s" % (name, fld, wnt, got))
    # as a test (--check): every field of every message must agree
    print("%d passed, %d failed" % (tot[0], tot[1] - tot[0]))
    if "--check" in sys.argv and tot[0] != tot[1]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
