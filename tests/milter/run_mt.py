#!/usr/bin/env python3
"""run_mt.py - run one miltertest script of tests/milter/mt/ against the
spamtrace milter.

    run_mt.py SPAMTRACE SCRIPT.lua

The script's lines "--conf: key = value" become the milter's config file
(in a temporary directory, which is also HOME and XDG_CONFIG_HOME so no
user config leaks in).  The filter listens on a free port of 127.0.0.1;
miltertest starts it, and stops it with SIGTERM at the end.  Exits 77
(skipped) when miltertest is missing or this build has no libmilter.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pfmilter  # noqa: E402


def main():
    cli, script = sys.argv[1], sys.argv[2]
    try:
        pfmilter.require(cli, pfmilter.MILTERTEST)
    except pfmilter.Skip as e:
        print(e)
        return 77
    here = os.path.dirname(os.path.abspath(__file__))
    conf = [l[len("--conf:"):].strip() for l in open(script)
            if l.startswith("--conf:")]
    with tempfile.TemporaryDirectory(prefix="st-milter-mt-") as d:
        cpath = os.path.join(d, "spamtrace.conf")
        with open(cpath, "w") as f:
            f.write("\n".join(conf) + "\n")
        env = pfmilter.milter_env(d, ST_CLI=cli,
                                  MT_PORT=str(pfmilter.free_port()),
                                  MT_CONF=cpath,
                                  LUA_PATH=os.path.join(here, "?.lua") + ";;")
        try:
            r = subprocess.run([pfmilter.MILTERTEST, "-s", script], env=env,
                               cwd=here, timeout=50,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        except subprocess.TimeoutExpired as e:
            print(e.stdout or "")
            print("FAILED: miltertest did not finish in 50 s")
            return 1
        print(r.stdout)
        if r.returncode != 0:
            print("FAILED: miltertest exited %d" % r.returncode)
            return 1
        for l in r.stdout.splitlines():
            if "FAILED" in l:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
