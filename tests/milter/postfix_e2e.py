#!/usr/bin/env python3
"""postfix_e2e.py - the milter behind a real Postfix, end to end.

    postfix_e2e.py SPAMTRACE TESTS_MILTER_DIR

A private Postfix on 127.0.0.1 (pfmilter.py) with smtpd_milters pointing at
"spamtrace milter" (unix socket, --user postfix, daemonised) configured with
dynamic_direct = tempfail, backscatter = reject, my_outbound =
203.0.113.0/24, smtp.example.org.  swaks speaks for other clients through
XCLIENT and each case checks the SMTP reply and, for accepted mail, the
X-Spamtrace header in the delivered mailbox:

  dynamic   ADDR=202.215.137.102 NAME=d102.GtokyoFL38.vectant.ne.jp
            -> 451 4.7.1 at MAIL FROM, nothing delivered
  bounce    a DSN from a legitimate bouncer whose original never passed our
            hosts -> 550 5.7.1 at the end of DATA, nothing delivered
  genuine   a DSN for a message that did pass smtp.example.org -> 250,
            delivered with backscatter=no
  legit     ADDR=210.130.30.5 NAME=mail.example.net -> 250, delivered with
            origin=210.130.30.5 and no tag
  auth      the dynamic client with LOGIN=taro -> 250, delivered, no tag
  forged    a message carrying its own X-Spamtrace field -> delivered with
            ours only

Exits 77 (skipped) without Postfix, swaks, root, or libmilter in the build.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pfmilter  # noqa: E402

CONF = """\
dynamic_direct = tempfail
backscatter = reject
my_outbound = 203.0.113.0/24, smtp.example.org
"""


def swaks(pf, xclient, mail_from, rcpt, data=None):
    # swaks says EHLO again after XCLIENT: that EHLO is the HELO the
    # server (and the milter) sees
    args = [pfmilter.SWAKS, "--server", "127.0.0.1", "--port", str(pf.port),
            "--timeout", "30", "--helo", xclient.get("HELO", "tester.example"),
            "--from", mail_from or "<>", "--to", rcpt]
    for k, v in xclient.items():
        if k != "HELO":
            args += ["--xclient-" + k.lower(), v]
    if data is not None:
        args += ["--data", "@" + data]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    return r.stdout


def reply_to(out, command):
    """The server's reply lines after the client line starting with
    command (e.g. 'MAIL FROM', '.')."""
    lines = out.splitlines()
    for i, l in enumerate(lines):
        if re.match(r"^ -> " + re.escape(command), l):
            got = []
            for m in lines[i + 1:]:
                if m.startswith("<-") or m.startswith("<**"):
                    got.append(m)
                    if not re.match(r"^<[-*]+ \d{3}-", m):
                        break
                elif got:
                    break
            return "\n".join(got)
    return ""


def wait_delivered(pf, count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        box = pf.mailbox()
        if box.count("\nFrom ") + box.startswith("From ") >= count:
            return box
        time.sleep(0.2)
    return pf.mailbox()


def messages(box):
    parts = re.split(r"(?m)^From ", box)
    return [p for p in parts if p.strip()]


def main():
    cli, here = sys.argv[1], sys.argv[2]
    try:
        pfmilter.require(cli, pfmilter.SWAKS)
    except pfmilter.Skip as e:
        print(e)
        return 77
    failures = []

    def check(cond, what, detail=""):
        print("%s: %s" % ("ok" if cond else "FAILED", what))
        if not cond:
            failures.append(what)
            if detail:
                print(detail)

    tmp = tempfile.mkdtemp(prefix="st-milter-e2e-")
    try:
        # the fixtures without the receiving MX's own Received line
        # (Postfix adds the real one)
        def fixture(name, drop_first_received=True):
            with open(os.path.join(here, "msgs", name)) as f:
                text = f.read()
            if drop_first_received and text.startswith("Received:"):
                lines = text.split("\n")
                k = 1
                while k < len(lines) and lines[k][:1] in (" ", "\t"):
                    k += 1
                text = "\n".join(lines[k:])
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        bounce = fixture("bounce_backscatter.eml")
        genuine = fixture("bounce_ours.eml")
        legit = fixture("legit.eml")
        forged = os.path.join(tmp, "forged.eml")
        with open(forged, "w") as f:
            f.write("From: Hanako <hanako@example.net>\n"
                    "To: user@example.org\n"
                    "Subject: forged field\n"
                    "X-Spamtrace: origin=127.0.0.1; source=127.0.0.1; "
                    "findings=none\n"
                    "Message-ID: <forged.1@example.net>\n\nhello\n")

        with pfmilter.PostfixMilter(cli, CONF) as pf:
            print("postfix on 127.0.0.1:%d, milter pid %s"
                  % (pf.port, pf.milter_pid()))
            delivered = 0

            out = swaks(pf, {"ADDR": "202.215.137.102",
                             "NAME": "d102.GtokyoFL38.vectant.ne.jp",
                             "HELO": "localhost"},
                        "spam@shop.example.com", "user@example.org")
            rep = reply_to(out, "MAIL FROM")
            check(rep.startswith("<** 451 4.7.1"),
                  "dynamic client: 451 4.7.1 at MAIL FROM", out)
            print("    " + rep)

            out = swaks(pf, {"ADDR": "210.130.40.25",
                             "NAME": "mx.bouncer.example.net",
                             "HELO": "mx.bouncer.example.net"},
                        "", "user@example.org", bounce)
            rep = reply_to(out, ".")
            check(rep.startswith("<** 550 5.7.1"),
                  "backscatter: 550 5.7.1 at end of DATA", out)
            print("    " + rep)

            out = swaks(pf, {"ADDR": "210.130.40.25",
                             "NAME": "mx.bouncer.example.net",
                             "HELO": "mx.bouncer.example.net"},
                        "", "user@example.org", genuine)
            rep = reply_to(out, ".")
            check(rep.startswith("<-  250"), "genuine bounce: 250", out)
            delivered += 1

            out = swaks(pf, {"ADDR": "210.130.30.5",
                             "NAME": "mail.example.net",
                             "HELO": "mail.example.net"},
                        "hanako@example.net", "user@example.org", legit)
            rep = reply_to(out, ".")
            check(rep.startswith("<-  250"), "legit: 250", out)
            delivered += 1

            out = swaks(pf, {"ADDR": "202.215.137.102",
                             "NAME": "d102.GtokyoFL38.vectant.ne.jp",
                             "HELO": "[192.168.1.20]", "LOGIN": "taro"},
                        "taro@example.org", "user@example.org")
            rep = reply_to(out, ".")
            check(rep.startswith("<-  250"), "authenticated: 250", out)
            delivered += 1

            out = swaks(pf, {"ADDR": "210.130.30.5",
                             "NAME": "mail.example.net",
                             "HELO": "mail.example.net"},
                        "hanako@example.net", "user@example.org", forged)
            rep = reply_to(out, ".")
            check(rep.startswith("<-  250"), "forged field: 250", out)
            delivered += 1

            box = wait_delivered(pf, delivered)
            msgs = messages(box)
            check(len(msgs) == delivered, "%d messages delivered (got %d)"
                  % (delivered, len(msgs)), box)

            def find(subject):
                for m in msgs:
                    if re.search(r"(?m)^Subject: " + re.escape(subject), m):
                        return m
                return ""

            def xst(m):
                return re.findall(r"(?m)^X-Spamtrace: (.*)$", m)

            g = find("Undelivered Mail Returned to Sender")
            check(xst(g) and "backscatter=no" in xst(g)[0],
                  "genuine bounce delivered with backscatter=no", g)
            print("    X-Spamtrace: %s" % (xst(g) or ["-"])[0])
            m = find("meeting")
            check(xst(m) == ["origin=210.130.30.5; source=210.130.30.5; "
                             "findings=none"],
                  "legit message: exact header", m)
            print("    X-Spamtrace: %s" % (xst(m) or ["-"])[0])
            a = [x for x in msgs if x.startswith("taro@example.org")]
            a = a[0] if a else ""
            check(xst(a) and "origin=202.215.137.102" in xst(a)[0]
                  and "tag=" not in xst(a)[0]
                  and "DYNAMIC_SENDER" not in xst(a)[0],
                  "authenticated message: header, no tag", a)
            print("    X-Spamtrace: %s" % (xst(a) or ["-"])[0])
            fm = find("forged field")
            check(len(xst(fm)) == 1 and "origin=210.130.30.5" in xst(fm)[0],
                  "forged field replaced by ours", fm)
            check("MAILER-DAEMON " in box or g.startswith("MAILER-DAEMON"),
                  "the genuine bounce came with the null sender", g[:200])
            mlog = pf.milter_log()
            check("helo=localhost" in mlog and "helo=mx.bouncer.example.net"
                  in mlog, "the milter saw the clients' HELO names", mlog)
            check("cheap watches" not in box and "spam@shop" not in box,
                  "nothing of the refused messages delivered")

            mlog = pf.milter_log()
            for what in ("action=tempfail rule=dynamic_direct",
                         "action=reject rule=backscatter",
                         "exempt=\"authenticated as taro\""):
                check(what in mlog, "milter log has: " + what, mlog)
    except pfmilter.Skip as e:
        print(e)
        return 77
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
