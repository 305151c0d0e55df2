#!/usr/bin/env python3
"""run_tests.py - tests of `spamtrace report` and `spamtrace cases`.

usage: run_tests.py SPAMTRACE ARF_GMIME SRCDIR GROUP

GROUP is one of:
  arf       every cases/*.json: run the report with --arf, read each
            written report with Python's email package AND with GMime
            (arf_gmime), compare the feedback fields, addressees and
            Source-IP with the case (two-way: an unexpected field fails),
            check the original header block is copied byte for byte
            (after --redact) and that both parsers agree
  letters   English and Japanese letters (ISO-2022-JP and UTF-8) decode
            with their charset in both parsers and say what they must
  send      through a scripted SMTP sink on 127.0.0.1: sent, recorded,
            not sent twice, --force resends, a 550 at RCPT is recorded
            as refused and not retried, an interrupted send (client
            killed during DATA) leaves a consistent case file marked
            "sending" that the next run does not resend blindly
  store     case file: schema version, --resolve, a file from a newer
            version is refused, a non-SQLite file is refused

Each group prints what it checked; the exit status is 0 when all passed.
"""
import email
import email.policy
import glob
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_sink import SmtpSink  # noqa: E402

ST, GMIME, SRC, GROUP = sys.argv[1:5]
HERE = os.path.join(SRC, "tests", "report")
FAILS = []


def check(cond, what):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        FAILS.append(what)
    return cond


def run(args, env_extra=None, timeout=120):
    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    env["HOME"] = TMP            # never touch the real ~/.local/share
    env.pop("XDG_DATA_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    if env_extra:
        env.update(env_extra)
    p = subprocess.run([ST] + args, capture_output=True, timeout=timeout,
                       env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def gmime(path):
    p = subprocess.run([GMIME, path], capture_output=True, timeout=60)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout.decode("utf-8"))


def header_block(raw):
    """The header block as the report copies it: without an mbox From_
    line, up to and without the empty line."""
    if raw.startswith(b"From "):
        raw = raw[raw.index(b"\n") + 1:]
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            j = raw.find(b"\n\n") if sep == b"\r\n\r\n" else -1
            if j >= 0 and j < i:
                continue
            return raw[:i + len(sep) // 2]
    return raw


def messages_of(path):
    """The raw messages of a test input (one file, or an mbox)."""
    raw = open(path, "rb").read()
    if not raw.startswith(b"From "):
        return [raw]
    out, cur = [], []
    for line in raw.splitlines(keepends=True):
        if line.startswith(b"From ") and (not cur or cur[-1].strip() == b""):
            if cur:
                out.append(b"".join(cur[:-1] if cur[-1].strip() == b""
                                    else cur))
            cur = [line]
        else:
            cur.append(line)
    if cur:
        out.append(b"".join(cur))
    return out


def redact(b, addr):
    if not addr:
        return b
    return re.sub(re.escape(addr.encode()), b"x@redacted.invalid", b,
                  flags=re.I)


def py_feedback(msg):
    """(fields as [name, value] list, original bytes) via Python."""
    parts = list(msg.iter_parts())
    fb = parts[1]
    fields = []
    if fb.get_content_type() == "message/feedback-report":
        payload = fb.get_payload()
        if isinstance(payload, list):      # parsed as an embedded message
            for k, v in payload[0].items():
                fields.append([k, " ".join(str(v).split())])
        else:
            body = payload if isinstance(payload, str) else payload.decode()
            cur = None
            for line in body.replace("\r", "").split("\n"):
                if line[:1] in (" ", "\t") and cur is not None:
                    cur[1] += " " + line.strip()
                elif ":" in line:
                    k, v = line.split(":", 1)
                    cur = [k, v.strip()]
                    fields.append(cur)
            for f in fields:
                f[1] = " ".join(f[1].split())
    orig = parts[2]
    if orig.get_content_type() == "message/rfc822":
        data = orig.get_payload()[0].as_bytes(policy=email.policy.compat32)
        obytes = None          # Python re-serialises; compare via GMime
        obytes_repr = data
    else:
        obytes = orig.get_payload(decode=True)
        obytes_repr = obytes
    return fields, obytes, obytes_repr


# ---------------------------------------------------------------------

def group_arf():
    for case in sorted(glob.glob(os.path.join(HERE, "cases", "*.json"))):
        name = os.path.basename(case)[:-5]
        c = json.load(open(case))
        out = os.path.join(TMP, "out-" + name)
        db = os.path.join(TMP, name + ".sqlite")
        args = ["report", "--arf", "--json", "--out", out, "--db", db,
                "--from", "Reporter <reporter@example.org>"] + \
            c.get("args", []) + [os.path.join(HERE, c["input"])]
        rc, so, se = run(args)
        check(rc == c.get("exit", 0),
              "%s: exit %d (want %d) %s" % (name, rc, c.get("exit", 0),
                                            se.strip()[-300:]))
        try:
            res = json.loads(so)
        except ValueError:
            check(False, "%s: report --json is JSON" % name)
            continue
        want = c["reports"]
        check(len(res["reports"]) == len(want),
              "%s: %d reports (want %d)" % (name, len(res["reports"]),
                                           len(want)))
        for k in ("no_addressee",):
            if k in c:
                check(res.get(k) == c[k], "%s: %s = %s (want %s)" %
                      (name, k, res.get(k), c[k]))
        if c.get("no_addressee"):
            check("no addressee" in se,
                  "%s: 'no addressee' named on stderr" % name)
        origs = messages_of(os.path.join(HERE, c["input"]))
        for i, (got, exp) in enumerate(zip(res["reports"], want)):
            tag = "%s[%d]" % (name, i)
            check(got["to"] == exp["to"], "%s: to %s (want %s)" %
                  (tag, got["to"], exp["to"]))
            check(got["source_ip"] == exp["source_ip"],
                  "%s: source_ip %s" % (tag, got["source_ip"]))
            check(got["lang"] == c.get("lang", "en"), "%s: lang" % tag)
            check(got["incidents"] == exp.get("incidents", 1),
                  "%s: incidents %d" % (tag, got["incidents"]))
            raw = open(got["path"], "rb").read()
            m = email.message_from_bytes(raw, policy=email.policy.default)
            check(m.get_content_type() == "multipart/report" and
                  m.get_param("report-type") == "feedback-report",
                  "%s: python: multipart/report; report-type="
                  "feedback-report" % tag)
            types = [p.get_content_type() for p in m.iter_parts()]
            otype = "message/rfc822" if "--full" in c.get("args", []) \
                else "text/rfc822-headers"
            check(types == ["text/plain", "message/feedback-report", otype],
                  "%s: python: parts %s" % (tag, types))
            check(not m.defects and all(not p.defects for p in m.walk()),
                  "%s: python: no MIME defects %s" % (tag, m.defects))
            check([a.addr_spec for a in m["to"].addresses] == exp["to"],
                  "%s: python: To header" % tag)
            pf, pbytes, prepr = py_feedback(m)
            g = gmime(got["path"])
            if not check(g is not None, "%s: GMime parses it" % tag):
                continue
            check(g["content_type"] == "multipart/report" and
                  g["report_type"] == "feedback-report" and
                  g["parts"] == types,
                  "%s: gmime: same structure %s" % (tag, g["parts"]))
            check(g["to"] == exp["to"], "%s: gmime: To header" % tag)
            gf = [[k, v] for k, v in g["feedback"]]
            check(pf == gf, "%s: python and GMime read the same feedback "
                  "fields" % tag)
            # two-way comparison with the expected fields
            fields = dict(pf)
            check(len(fields) == len(pf), "%s: no repeated field" % tag)
            ua = fields.pop("User-Agent", "")
            check(re.fullmatch(r"spamtrace/\d+\.\d+\.\d+", ua) is not None,
                  "%s: User-Agent %s" % (tag, ua))
            expf = dict(exp["feedback"])
            check(fields == expf, "%s: feedback fields\n   got  %s\n   "
                  "want %s" % (tag, json.dumps(fields, sort_keys=True),
                               json.dumps(expf, sort_keys=True)))
            # the original, byte for byte (only --redact changes it)
            first = exp.get("attached", 0)
            o = origs[first]
            red = c.get("redact")
            if c.get("attached_file"):
                want_b = redact(open(os.path.join(HERE, c["attached_file"]),
                                     "rb").read(), red)
                check(pbytes == want_b, "%s: python: the bounced original's "
                      "header block copied byte for byte" % tag)
            elif otype == "text/rfc822-headers":
                want_b = redact(header_block(o), red)
                check(pbytes == want_b, "%s: python: header block copied "
                      "byte for byte (%d bytes)" % (tag, len(want_b)))
            else:
                if o.startswith(b"From "):
                    o = o[o.index(b"\n") + 1:]
                want_b = redact(o, red)
            check(bytes.fromhex(g["original"]) == want_b,
                  "%s: gmime: original copied byte for byte" % tag)
            if red:
                check(red.lower().encode() not in raw.lower(),
                      "%s: %s appears nowhere in the report" % (tag, red))
        # every report is a case
        rc, so, se = run(["cases", "--json", "--db", db])
        cs = json.loads(so)["cases"]
        check(len(cs) == len(want) and all(x["sent"] is None and
                                           x["status"] == "written"
                                           for x in cs),
              "%s: cases --json lists %d written, unsent cases" %
              (name, len(cs)))


def decode_letter(path):
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    return raw, m


def group_letters():
    src = os.path.join(HERE, "msgs", "qmail-dynamic.eml")
    for lang, extra, charset, phrase in (
            # the original's header quotes a UTF-8 comment: UTF-8 (QP)
            ("en", [], "utf-8", "Dear abuse team of vectant.ne.jp"),
            ("ja", [], "iso-2022-jp", "vectant.ne.jp ご担当者様"),
            ("ja", ["--ja-utf8"], "utf-8", "vectant.ne.jp ご担当者様")):
        tag = "letter-%s%s" % (lang, "".join(extra))
        out = os.path.join(TMP, tag)
        rc, so, se = run(["report", "--json", "--lang", lang, "--out", out,
                          "--db", os.path.join(TMP, tag + ".sqlite"),
                          "--from", "taro@example.jp"] + extra + [src])
        check(rc == 0, "%s: exit 0 %s" % (tag, se.strip()[-200:]))
        r = json.loads(so)["reports"]
        if not check(len(r) == 1, "%s: one report" % tag):
            continue
        raw, m = decode_letter(r[0]["path"])
        check(m.get_content_type() == "text/plain" and
              m.get_content_charset() == charset,
              "%s: text/plain; charset=%s (got %s)" %
              (tag, charset, m.get_content_charset()))
        check(all(b < 128 for b in raw), "%s: the message is 7-bit" % tag)
        body = m.get_content()
        subj = str(m["subject"])
        check(phrase in body, "%s: python decodes the salutation" % tag)
        check("202.215.137.102" in body and "202.215.137.102" in subj,
              "%s: source address in subject and body" % tag)
        check("Received: from localhost (d102.GtokyoFL38.vectant.ne.jp"
              in body, "%s: the Received lines are quoted" % tag)
        check("DYNAMIC_SENDER" in body, "%s: the findings' evidence" % tag)
        check(("25" in body and ("port 25" in body or "25 番ポート" in body)),
              "%s: advice on outbound port 25" % tag)
        check("Message-Id: <200603031154.k23BseD16587@mx.ore-no-server.jp>"
              in body, "%s: the original header inline" % tag)
        if lang == "ja":
            check(subj.startswith("貴ネットワークからの迷惑メール"),
                  "%s: subject decodes (RFC 2047): %s" % (tag, subj))
            enc = "ISO-2022-JP" if not extra else "UTF-8"
            check(("=?%s?B?" % enc) in raw.decode("ascii"),
                  "%s: subject is RFC 2047 %s" % (tag, enc))
            if not extra:
                ok = True
                for line in raw.split(b"\n"):
                    esc = re.findall(rb"\x1b[$(][@BJ]", line)
                    if esc and esc[-1] not in (b"\x1b(B", b"\x1b(J"):
                        ok = False
                check(ok, "%s: every ISO-2022-JP line ends in ASCII "
                      "(RFC 1468)" % tag)
        g = gmime(r[0]["path"])
        check(g is not None and g["text"].replace("\r\n", "\n").strip() ==
              body.replace("\r\n", "\n").strip(),
              "%s: GMime decodes the same text as Python" % tag)
        check(g is not None and g["subject"] == subj,
              "%s: GMime decodes the same subject" % tag)
    # charset choice on other inputs: a plain ASCII letter, and a hostile
    # header (raw Shift_JIS, ESC, NUL, controls, a 2400-byte line) whose
    # bytes include a UTF-8 character ISO-2022-JP lacks: UTF-8 fallback
    for name, lang, charset in (("dyn-direct.eml", "en", "us-ascii"),
                                ("hostile.eml", "en", "utf-8"),
                                ("hostile.eml", "ja", "utf-8")):
        tag = "letter-%s-%s" % (lang, name)
        out = os.path.join(TMP, tag)
        rc, so, se = run(["report", "--json", "--lang", lang, "--out", out,
                          "--db", os.path.join(TMP, tag + ".sqlite"),
                          "--from", "taro@example.jp",
                          os.path.join(HERE, "msgs", name)])
        r = json.loads(so)["reports"]
        raw, m = decode_letter(r[0]["path"])
        body = m.get_content()
        g = gmime(r[0]["path"])
        check(rc == 0 and m.get_content_charset() == charset and
              all(b < 128 for b in raw) and
              all(len(x) <= 998 for x in raw.split(b"\n")),
              "%s: 7-bit, lines <= 998, charset %s (got %s)" %
              (tag, charset, m.get_content_charset()))
        check(g is not None and g["text"].replace("\r\n", "\n").strip() ==
              body.replace("\r\n", "\n").strip(),
              "%s: GMime decodes the same text as Python" % tag)
        if name == "hostile.eml":
            check("\\x00" in body and "\\x1b$B" in body and
                  "\\x82\\xb1" in body,
                  "%s: hostile bytes shown as \\xNN" % tag)

    # a template a user changed
    tdir = os.path.join(TMP, "tpl")
    os.makedirs(tdir, exist_ok=True)
    with open(os.path.join(tdir, "letter-en.txt"), "w") as f:
        f.write("Subject: custom {{count}} from {{source_ip}}\n\n"
                "Hi {{to}}, {{unknown_name}} {{network}}\n")
    out = os.path.join(TMP, "custom")
    rc, so, se = run(["report", "--json", "--templates", tdir, "--out", out,
                      "--db", os.path.join(TMP, "custom.sqlite"),
                      "--from", "taro@example.jp", src])
    r = json.loads(so)["reports"]
    raw, m = decode_letter(r[0]["path"])
    check(str(m["subject"]) == "custom 1 from 202.215.137.102" and
          m.get_content().strip() == "Hi abuse@vectant.ne.jp, "
          "postmaster@vectant.ne.jp, {{unknown_name}} vectant.ne.jp",
          "--templates: a user's template is used, unknown names kept")


def group_send():
    src = os.path.join(HERE, "msgs", "qmail-dynamic.eml")
    db = os.path.join(TMP, "send.sqlite")
    out = os.path.join(TMP, "send-out")
    base = ["report", "--json", "--arf", "--out", out, "--db", db,
            "--from", "taro@example.jp", "--redact", "ore@ore-no-server.jp"]
    with SmtpSink() as sink:
        smtp = ["--send", "--smtp", "127.0.0.1:%d" % sink.port]
        rc, so, se = run(base + smtp + [src])
        check(rc == 0, "send: exit 0 %s" % se.strip()[-300:])
        r = json.loads(so)["reports"]
        check(len(sink.messages) == 1, "send: the sink got 1 message (%d)" %
              len(sink.messages))
        if sink.messages:
            sm = sink.messages[0]
            check(sorted(sm["rcpts"]) == sorted(r[0]["to"]) ==
                  ["abuse@vectant.ne.jp", "postmaster@vectant.ne.jp"],
                  "send: envelope recipients %s" % sm["rcpts"])
            check(sm["from"] == "<taro@example.jp>",
                  "send: MAIL FROM %s" % sm["from"])
            m = email.message_from_bytes(sm["data"],
                                         policy=email.policy.default)
            check(m.get_content_type() == "multipart/report",
                  "send: what arrived is the ARF report")
            fb = dict(py_feedback(m)[0])
            check(fb.get("Source-IP") == "202.215.137.102",
                  "send: Source-IP %s" % fb.get("Source-IP"))
            check(sm["data"].replace(b"\r\n", b"\n") ==
                  open(r[0]["path"], "rb").read().replace(b"\r\n", b"\n"),
                  "send: the message sent is the file written")
        check(r[0]["status"] == "sent" and
              r[0]["deliveries"][0]["smtp_reply"].startswith("250"),
              "send: report --json says sent with the smarthost's reply")
        rc, so, se = run(["cases", "--json", "--db", db])
        cs = json.loads(so)["cases"]
        check(len(cs) == 1 and cs[0]["sent"] is not None and
              cs[0]["status"] == "sent" and
              re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", cs[0]["sent"]),
              "send: cases --json shows it sent at %s" %
              (cs[0]["sent"] if cs else None))
        check(cs and cs[0]["to"] == r[0]["to"] and
              cs[0]["source_ip"] == "202.215.137.102" and
              cs[0]["message_id"] ==
              "<200603031154.k23BseD16587@mx.ore-no-server.jp>" and
              cs[0]["path"] == r[0]["path"] and "SINK0001" in
              (cs[0]["smtp_reply"] or ""),
              "send: case fields (to, source_ip, message_id, path, reply)")
        conns = sink.connections
        rc, so, se = run(base + smtp + [src])
        r2 = json.loads(so)["reports"]
        check(rc == 0 and len(sink.messages) == 1 and
              sink.connections == conns and r2[0]["status"] ==
              "already-sent", "send: a second run sends nothing "
              "(status %s)" % r2[0]["status"])
        rc, so, se = run(base + smtp + ["--force", src])
        check(len(sink.messages) == 2, "send: --force sends it again")
        rc, so, se = run(["cases", "--json", "--db", db])
        check(len(json.loads(so)["cases"]) == 1,
              "send: still one case after three runs")

    # STARTTLS and AUTH PLAIN through the smarthost
    cert = os.path.join(TMP, "cert.pem")
    key = os.path.join(TMP, "key.pem")
    ok = shutil.which("openssl") is not None and subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
        capture_output=True).returncode == 0
    if not ok:
        print("skip tls: the openssl command could not make a certificate")
    else:
        pw = os.path.join(TMP, "pw")
        with open(pw, "w") as f:
            f.write("s3cret\n")
        with SmtpSink(tls=(cert, key), require_auth=True) as sink:
            smtp = ["--send", "--smtp", "127.0.0.1:%d" % sink.port,
                    "--starttls", "--tls-no-verify", "--smtp-user", "taro",
                    "--smtp-pass-file", pw]
            rc, so, se = run(["report", "--json", "--out", out, "--db",
                              os.path.join(TMP, "tls.sqlite"), "--from",
                              "taro@example.jp"] + smtp + [src])
            check(rc == 0 and len(sink.messages) == 1 and
                  sink.tls_sessions == 1 and sink.auth == [("taro", "s3cret")],
                  "tls: sent over STARTTLS with AUTH PLAIN (%s)" %
                  se.strip()[-200:])
        with SmtpSink(tls=(cert, key), require_auth=True) as sink:
            smtp = ["--send", "--smtp", "127.0.0.1:%d" % sink.port,
                    "--starttls", "--smtp-user", "taro",
                    "--smtp-pass-file", pw]
            rc, so, se = run(["report", "--json", "--out", out, "--db",
                              os.path.join(TMP, "tls2.sqlite"), "--from",
                              "taro@example.jp"] + smtp + [src])
            r = json.loads(so)["reports"]
            check(rc == 1 and len(sink.messages) == 0 and sink.auth == [] and
                  r[0]["status"] == "failed",
                  "tls: an unverifiable certificate stops the send before "
                  "AUTH (%s)" % r[0]["deliveries"][0]["smtp_reply"])

    # a smarthost that refuses at RCPT
    db2 = os.path.join(TMP, "refuse.sqlite")
    base2 = ["report", "--json", "--out", out, "--db", db2,
             "--from", "taro@example.jp"]
    with SmtpSink(refuse_all_rcpt=True) as sink:
        smtp = ["--send", "--smtp", "127.0.0.1:%d" % sink.port]
        rc, so, se = run(base2 + smtp + [src])
        r = json.loads(so)["reports"]
        check(rc == 1 and r[0]["status"] == "refused" and
              len(sink.messages) == 0,
              "refuse: exit 1, status refused, nothing queued (%s)" %
              r[0]["status"])
        check("not sent to abuse@vectant.ne.jp" in se,
              "refuse: the refusal is reported on stderr")
        rc, so, se = run(["cases", "--json", "--db", db2])
        c = json.loads(so)["cases"][0]
        check(c["status"] == "refused" and c["sent"] is None and
              c["smtp_reply"].startswith("550") and
              all(d["status"] == "refused" and
                  d["smtp_reply"].startswith("550 5.7.1")
                  for d in c["deliveries"]),
              "refuse: the case file records the 550 refusal")
        conns = sink.connections
        rc, so, se = run(base2 + smtp + [src])
        r = json.loads(so)["reports"]
        check(sink.connections == conns and
              all(d["status"] == "skipped-refused"
                  for d in r[0]["deliveries"]),
              "refuse: not retried blindly on the next run")

    # a send interrupted during DATA (the client is killed)
    db3 = os.path.join(TMP, "crash.sqlite")
    base3 = ["report", "--json", "--out", out, "--db", db3,
             "--from", "taro@example.jp"]
    with SmtpSink(hang_data=True) as sink:
        env = dict(os.environ, HOME=TMP, NO_COLOR="1")
        p = subprocess.Popen([ST] + base3 + ["--send", "--smtp",
                             "127.0.0.1:%d" % sink.port, src],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        hung = sink.hung.wait(30)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        check(hung, "crash: the client was killed in the middle of DATA")
    con = sqlite3.connect(db3)
    ic = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    check(ic == "ok", "crash: the case file is consistent (%s)" % ic)
    rc, so, se = run(["cases", "--json", "--db", db3])
    c = json.loads(so)["cases"]
    check(len(c) == 1 and c[0]["status"] == "sending",
          "crash: the case shows the send as started, outcome unknown")
    with SmtpSink() as sink:
        smtp = ["--send", "--smtp", "127.0.0.1:%d" % sink.port]
        rc, so, se = run(base3 + smtp + [src])
        r = json.loads(so)["reports"]
        check(len(sink.messages) == 0 and rc == 0 and
              "never recorded the outcome" in se and
              all(d["status"] == "skipped-unknown"
                  for d in r[0]["deliveries"]),
              "crash: the next run does not resend blindly")
        rc, so, se = run(base3 + smtp + ["--force", src])
        check(len(sink.messages) == 1 and
              json.loads(so)["reports"][0]["status"] == "sent",
              "crash: --force sends it")


def group_store():
    db = os.path.join(TMP, "store.sqlite")
    src = os.path.join(HERE, "msgs", "qmail-dynamic.eml")
    rc, so, se = run(["cases", "--json", "--db", os.path.join(TMP, "a", "b",
                                                              "new.sqlite")])
    check(rc == 0 and json.loads(so) == {"cases": []},
          "store: a new case file (parent directories made) is empty")
    mode = os.stat(os.path.join(TMP, "a", "b", "new.sqlite")).st_mode & 0o777
    check(mode == 0o600, "store: the case file is private (%o)" % mode)
    run(["report", "--out", os.path.join(TMP, "st-out"), "--db", db,
         "--from", "taro@example.jp", src])
    con = sqlite3.connect(db)
    v = con.execute("PRAGMA user_version").fetchone()[0]
    jm = con.execute("PRAGMA journal_mode").fetchone()[0]
    tables = sorted(r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"))
    con.close()
    check(v == 2 and jm == "wal", "store: schema version %d, %s" % (v, jm))
    check(tables == ["deliveries", "messages", "report_messages",
                     "report_rcpts", "reports"], "store: tables %s" % tables)
    rc, so, se = run(["cases", "--db", db, "--resolve", "1", "relay closed"])
    check(rc == 0, "store: --resolve 1")
    rc, so, se = run(["cases", "--json", "--db", db])
    c = json.loads(so)["cases"][0]
    check(c["resolution"] == "relay closed" and c["resolved"] and
          c["id"] == 1, "store: the resolution is listed")
    rc, so, se = run(["cases", "--db", db, "--resolve", "99", "x"])
    check(rc == 2 and "no case 99" in se, "store: --resolve of no case")
    rc, so, se = run(["cases", "--db", db])
    check(rc == 0 and "relay closed" in so and "#1" in so,
          "store: text listing")
    # default location: $XDG_DATA_HOME/spamtrace/cases.sqlite
    xdg = os.path.join(TMP, "xdg")
    rc, so, se = run(["report", "--out", os.path.join(TMP, "st-out2"),
                      "--from", "taro@example.jp", src],
                     env_extra={"XDG_DATA_HOME": xdg})
    check(os.path.exists(os.path.join(xdg, "spamtrace", "cases.sqlite")),
          "store: default case file under $XDG_DATA_HOME")
    rc, so, se = run(["report", "--out", os.path.join(TMP, "st-out3"),
                      "--from", "taro@example.jp", src])
    check(os.path.exists(os.path.join(TMP, ".local", "share", "spamtrace",
                                      "cases.sqlite")),
          "store: default case file under ~/.local/share")
    newer = os.path.join(TMP, "newer.sqlite")
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    rc, so, se = run(["cases", "--db", newer])
    check(rc != 0 and "newer" in se, "store: a file from a newer version "
          "is refused")
    junk = os.path.join(TMP, "junk.sqlite")
    open(junk, "w").write("this is not a database\n" * 100)
    rc, so, se = run(["cases", "--db", junk])
    check(rc != 0 and "junk.sqlite" in se, "store: a non-SQLite file is "
          "refused with its name")


TMP = tempfile.mkdtemp(prefix="st-report-")
try:
    {"arf": group_arf, "letters": group_letters, "send": group_send,
     "store": group_store}[GROUP]()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
print("%s: %d failure(s)" % (GROUP, len(FAILS)))
sys.exit(1 if FAILS else 0)
