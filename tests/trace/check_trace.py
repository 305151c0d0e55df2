#!/usr/bin/env python3
"""Data-driven trace tests.

cases/NAME.eml is traced with `spamtrace trace --json` (options from an
optional first line "X-Test-Args: ..." in the file) and compared, both ways,
with cases/NAME.json: the projection of the result that the case pins down
(hop trust, origin, source estimate, relays, findings as code/severity/hop,
contacts, error).  Any difference, missing or unexpected, fails.

legit/*.eml are legitimate mail: no finding of severity "high" may fire;
findings that still fire are listed.

usage: check_trace.py SPAMTRACE [--update]
"""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def project(d):
    p = {"error": d.get("error")}
    if d.get("error"):
        return p
    p["trust"] = [h["trust"] for h in d["hops"]]
    o = d["origin"]
    p["origin"] = None if o is None else {k: o[k] for k in ("ip", "rdns", "helo", "hop", "org")}
    s = d["source_ip_estimate"]
    p["source"] = None if s is None else {"ip": s["ip"], "hop": s["hop"]}
    p["relays"] = sorted([{k: r[k] for k in ("hop", "host", "ip", "org", "role")} for r in d["relays"]],
                         key=lambda r: (r["hop"], r["host"]))
    p["findings"] = sorted(["%s/%s/%s" % (f["code"], f["severity"], f["hop"]) for f in d["findings"]])
    p["contacts"] = sorted(c["address"] + " (" + c["for"] + ")" for c in d["contacts"])
    return p


def run(spamtrace, path):
    args = []
    with open(path, "rb") as f:
        first = f.readline().decode("latin-1")
    if first.startswith("X-Test-Args:"):
        args = first.split(":", 1)[1].split()
    out = subprocess.run([spamtrace, "trace", "--json", "-j", "1"] + args + [path],
                         capture_output=True, timeout=60)
    lines = out.stdout.decode().splitlines()
    if len(lines) != 1:
        raise RuntimeError("%s: expected 1 record, got %d (stderr: %s)" %
                           (path, len(lines), out.stderr.decode()[:300]))
    return json.loads(lines[0])


def main():
    spamtrace = sys.argv[1]
    update = "--update" in sys.argv
    fails = 0
    n = 0
    cdir = os.path.join(HERE, "cases")
    for name in sorted(os.listdir(cdir)):
        if not name.endswith(".eml"):
            continue
        n += 1
        path = os.path.join(cdir, name)
        exp_path = path[:-4] + ".json"
        got = project(run(spamtrace, path))
        if update or not os.path.exists(exp_path):
            with open(exp_path, "w") as f:
                json.dump(got, f, indent=1, sort_keys=True, ensure_ascii=False)
                f.write("\n")
            print("wrote", exp_path)
            continue
        with open(exp_path) as f:
            exp = json.load(f)
        if got != exp:
            fails += 1
            print("FAIL", name)
            for k in sorted(set(exp) | set(got)):
                if exp.get(k) != got.get(k):
                    print("  %s\n    expected: %s\n    got:      %s" % (k, exp.get(k), got.get(k)))
        else:
            print("ok  ", name)
    ldir = os.path.join(HERE, "legit")
    for name in sorted(os.listdir(ldir)):
        if not name.endswith(".eml"):
            continue
        n += 1
        d = run(spamtrace, os.path.join(ldir, name))
        high = [f for f in d.get("findings", []) if f["severity"] == "high"]
        other = ["%s/%s" % (f["code"], f["severity"]) for f in d.get("findings", []) if f["severity"] != "high"]
        if d.get("error") or high or d.get("origin") is None:
            fails += 1
            print("FAIL legit", name, d.get("error"), [(f["code"], f["evidence"]) for f in high])
        else:
            print("ok   legit %s (origin %s; other findings: %s)" % (name, d["origin"]["ip"], ", ".join(other) or "none"))
    print("%d passed, %d failed" % (n - fails, fails))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
