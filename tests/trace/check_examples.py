#!/usr/bin/env python3
"""The seed-modelled examples: the trace must reach the conclusions the seed
authors reached by hand (issue 3's acceptance).  Each check names the
conclusion; every one must hold.

usage: check_examples.py SPAMTRACE EXAMPLES_DIR
"""
import json, os, subprocess, sys

spamtrace, exdir = sys.argv[1], sys.argv[2]
ME = "eisaku@mbox.kyoto-inet.or.jp"
passed = failed = 0


def trace(name, *args):
    out = subprocess.run([spamtrace, "trace", "--json", "--me", ME] + list(args) +
                         [os.path.join(exdir, name)], capture_output=True, timeout=60)
    return json.loads(out.stdout.decode().splitlines()[0])


def check(what, cond):
    global passed, failed
    if cond:
        passed += 1
        print("ok   ", what)
    else:
        failed += 1
        print("FAIL ", what)


def codes(t):
    return {f["code"]: f for f in t["findings"]}


def roles(t):
    return {r["host"]: r["role"] for r in t["relays"]}


def addrs(t):
    return {c["address"] for c in t["contacts"]}


# 1. The joe-job bounce: the university relay, the forged HELO and From.
d = trace("01-joe-job-bounce.eml")
o = (d.get("original") or {}).get("trace")
check("ex1: the bounce carries the forged original", o is not None)
if o:
    c = codes(o)
    check("ex1: origin is the university relay labmsrv (150.59.23.45)",
          o["origin"] and o["origin"]["ip"] == "150.59.23.45")
    check("ex1: labmsrv is a third-party (open) relay",
          roles(o).get("labmsrv.chem.sci.hoshino-u.ac.jp") == "third-party-relay")
    check("ex1: THIRD_PARTY_RELAY finding", "THIRD_PARTY_RELAY" in c)
    check("ex1: the HELO my.yahoo.com is forged",
          "FORGED_HELO" in c and "my.yahoo.com" in c["FORGED_HELO"]["evidence"])
    check("ex1: the From is forged: a joe-job on --me",
          "SENDER_FORGED" in c and c["SENDER_FORGED"]["severity"] == "high")
    check("ex1: the Message-ID was made by the relay", "MSGID_ADDED_BY_RELAY" in c)
    check("ex1: tell the university's abuse desk and postmaster",
          {"abuse@hoshino-u.ac.jp", "postmaster@hoshino-u.ac.jp"} <= addrs(o))

# 2. Dial-up PSInet source through the .ne.jp relay.
d = trace("02-dialup-via-ne-jp-relay.eml")
c = codes(d)
check("ex2: origin is the relay sv.minato-net.ne.jp (210.166.12.34)",
      d["origin"] and d["origin"]["ip"] == "210.166.12.34")
check("ex2: source is the dial-up address 38.37.210.129, recorded by the relay",
      d["source_ip_estimate"] and d["source_ip_estimate"]["ip"] == "38.37.210.129")
check("ex2: sv.minato-net.ne.jp is a third-party relay",
      roles(d).get("sv.minato-net.ne.jp") == "third-party-relay")
check("ex2: the source is a dial-up/dynamic address", "DYNAMIC_SENDER" in c)
check("ex2: the HELO sg.dailynews.yahoo.com is forged",
      "FORGED_HELO" in c and "sg.dailynews.yahoo.com" in c["FORGED_HELO"]["evidence"])
check("ex2: joe-job on --me", "SENDER_FORGED" in c)
check("ex2: contacts for the relay and the dial-up provider",
      {"abuse@minato-net.ne.jp", "abuse@psi.net"} <= addrs(d))

# 3. The qmail-on-a-LAN spam from the dynamic vectant address.
d = trace("03-qmail-lan-dynamic.eml")
c = codes(d)
check("ex3: origin is 202.215.137.102 (d102.GtokyoFL38.vectant.ne.jp)",
      d["origin"] and d["origin"]["ip"] == "202.215.137.102"
      and d["origin"]["rdns"] == "d102.GtokyoFL38.vectant.ne.jp")
check("ex3: the dynamic vectant address sent directly", "DYNAMIC_SENDER" in c)
check("ex3: a LAN PC 192.168.0.70 behind a gateway (192.168.0.1)",
      "PRIVATE_NETWORK_SENDER" in c and "192.168.0.70" in c["PRIVATE_NETWORK_SENDER"]["evidence"]
      and "192.168.0.1" in c["PRIVATE_NETWORK_SENDER"]["evidence"])
check("ex3: qmail with -0000", "ZERO_TIMEZONE" in c and "qmail" in c["ZERO_TIMEZONE"]["explain"])
check("ex3: localhost identity", "LOCALHOST_IDENTITY" in c)
check("ex3: the Message-ID was made by the receiver", "MSGID_ADDED_BY_RELAY" in c
      and "receiving side" in c["MSGID_ADDED_BY_RELAY"]["explain"])
check("ex3: the yahoo.co.jp address never passed through Yahoo",
      "FREEMAIL_NOT_VIA_PROVIDER" in c and "yahoo.co.jp" in c["FREEMAIL_NOT_VIA_PROVIDER"]["explain"])
check("ex3: the X-Mailer (Becky!) contradicts the path", "XMAILER_MISMATCH" in c)
check("ex3: the vectant host is the sender's own gateway",
      roles(d).get("d102.GtokyoFL38.vectant.ne.jp") == "sender-gateway")
check("ex3: the verdict asks for outbound port 25 blocking", "OP25B" in (d.get("verdict") or ""))
check("ex3: tell vectant", "abuse@vectant.ne.jp" in addrs(d))
check("ex3: the Japanese subject is decoded", d["subject"] == "柏木茜です。")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
