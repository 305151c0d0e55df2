#!/usr/bin/env python3
"""reload_test.py - the milter as a daemon: pid file, SIGHUP reload, a
broken config on reload, a killed worker restarted, SIGTERM stop.

    reload_test.py SPAMTRACE TESTS_MILTER_DIR

Starts "spamtrace milter" daemonised on a free 127.0.0.1 port with a pid
file, and probes it with miltertest (reload_probe.lua):
  1. dynamic_direct = tag: MAIL FROM from a dynamic client continues;
  2. config changed to tempfail, SIGHUP: the same MAIL FROM is refused;
  3. config broken, SIGHUP: still refused (old config kept, error logged);
  4. the worker killed with SIGKILL: a new worker serves within seconds;
  5. SIGTERM: supervisor and worker gone, pid file removed.
Exits 77 when miltertest is missing or the build has no libmilter.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pfmilter  # noqa: E402


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie is not alive
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         stdout=subprocess.PIPE, text=True).stdout
    return [int(x) for x in out.split()]


def main():
    cli, here = sys.argv[1], sys.argv[2]
    try:
        pfmilter.require(cli, pfmilter.MILTERTEST)
    except pfmilter.Skip as e:
        print(e)
        return 77
    failures = []
    d = tempfile.mkdtemp(prefix="st-milter-reload-")
    port = pfmilter.free_port()
    conf = os.path.join(d, "spamtrace.conf")
    pidfile = os.path.join(d, "milter.pid")
    logf = open(os.path.join(d, "milter.log"), "w+")
    env = pfmilter.milter_env(d, ST_CLI=cli, MT_PORT=str(port),
                              LUA_PATH=os.path.join(here, "?.lua") + ";;")
    pid = None

    def log():
        logf.flush()
        with open(logf.name) as f:
            return f.read()

    def probe(expect, what):
        e = dict(env, MT_EXPECT=expect)
        p = subprocess.run([pfmilter.MILTERTEST, "-s",
                            os.path.join(here, "reload_probe.lua")],
                           env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        ok = p.returncode == 0 and "FAILED" not in p.stdout
        print("%s: %s" % ("ok" if ok else "FAILED", what))
        if not ok:
            print(p.stdout)
            failures.append(what)

    try:
        with open(conf, "w") as f:
            f.write("dynamic_direct = tag\n")
        r = subprocess.run([cli, "milter", "--socket",
                            "inet:%d@127.0.0.1" % port, "--config", conf,
                            "--pidfile", pidfile, "--log-stderr",
                            "--timeout", "30"],
                           stdout=logf, stderr=logf, env=env, timeout=20)
        if r.returncode != 0:
            print("FAILED: the daemon did not start:\n" + log())
            return 1
        for _ in range(100):
            if os.path.exists(pidfile):
                break
            time.sleep(0.05)
        pid = int(open(pidfile).read())
        print("ok: daemon started, pid file says %d" % pid)
        probe("continue", "dynamic_direct = tag: MAIL continues")

        with open(conf, "w") as f:
            f.write("dynamic_direct = tempfail\n")
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
        probe("refuse", "after SIGHUP with tempfail: MAIL refused")
        if "configuration reloaded" not in log():
            failures.append("no 'configuration reloaded' log line")
            print("FAILED: no 'configuration reloaded' log line")

        with open(conf, "w") as f:
            f.write("dynamic_direct = sometimes\n")
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
        probe("refuse", "after SIGHUP with a broken config: old one kept")
        if "configuration reload failed" not in log():
            failures.append("no 'reload failed' log line")
            print("FAILED: no 'configuration reload failed' log line")

        kids = children(pid)
        if len(kids) != 1:
            failures.append("expected one worker, found %r" % kids)
        else:
            os.kill(kids[0], signal.SIGKILL)
            time.sleep(2.5)     # first restart pause is 1 s
            new = children(pid)
            if len(new) == 1 and new[0] != kids[0]:
                print("ok: worker %d killed, worker %d started"
                      % (kids[0], new[0]))
            else:
                failures.append("worker not restarted: %r" % new)
                print("FAILED: worker not restarted: %r" % new)
            probe("refuse", "the restarted worker serves")

        kids = children(pid)
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not alive(pid) and not any(alive(k) for k in kids):
                break
            time.sleep(0.1)
        if alive(pid) or any(alive(k) for k in kids):
            failures.append("still running after SIGTERM")
            print("FAILED: still running after SIGTERM")
        else:
            print("ok: SIGTERM stopped supervisor and worker")
        if os.path.exists(pidfile):
            failures.append("pid file left behind")
            print("FAILED: pid file left behind")
        else:
            print("ok: pid file removed")
    finally:
        if pid is not None and alive(pid):
            for k in children(pid):
                os.kill(k, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        print("--- milter log\n" + log())
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
