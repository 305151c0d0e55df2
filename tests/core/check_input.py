#!/usr/bin/env python3
"""The input reader, through `spamtrace trace --json`: every kind of PATH,
every line ending, the mbox separator rule, and one record per message in
input order with the right source.index.  Each case builds its input in a
temporary directory and states the records it expects.

usage: check_input.py SPAMTRACE
"""
import json, os, subprocess, sys, tempfile

spamtrace = sys.argv[1]
passed = failed = 0


def msg(subject, body="hello\n", extra=""):
    return ("Received: from a.example.net (a.example.net [198.18.0.1]) by mx.example.org "
            "(Postfix) with ESMTP id ABC123 for <u@example.org>; Mon, 1 Jan 2024 00:00:00 +0000\n"
            "From: x@example.net\nTo: u@example.org\nSubject: %s\n%s"
            "Message-ID: <%s@example.net>\n\n%s" % (subject, extra, subject.replace(" ", "-"), body))


def run(args, stdin=None):
    p = subprocess.run([spamtrace, "trace", "--json"] + args, input=stdin,
                       capture_output=True, timeout=60)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return p.returncode, recs, p.stderr.decode()


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   ", name)
    else:
        failed += 1
        print("FAIL ", name, detail)


def subjects(recs):
    return [r.get("subject") for r in recs]


def write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data if isinstance(data, bytes) else data.encode())


with tempfile.TemporaryDirectory() as d:
    # line endings: the same message three ways gives the same record
    base = msg("line endings", "body\n")
    for name, eol in (("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")):
        write(os.path.join(d, name + ".eml"), base.replace("\n", eol))
    outs = []
    for name in ("lf", "crlf", "cr"):
        rc, recs, err = run([os.path.join(d, name + ".eml")])
        outs.append(recs)
        check("%s message: one record, exit 0" % name, rc == 0 and len(recs) == 1, (rc, err))
    strip = lambda r: {k: v for k, v in r.items() if k != "source"}
    check("LF, CRLF and CR give the same trace",
          strip(outs[0][0]) == strip(outs[1][0]) == strip(outs[2][0]))
    check("hop parsed across line endings", outs[2][0]["hops"][0]["ip"] == "198.18.0.1")

    # mboxo with body lines that start with "From"
    mb = ""
    for i in range(3):
        body = ("First line.\nFrom here on, the body says From without being a separator.\n\n"
                "From the desk of the president: nothing.\n\nFrom me 12:30 yesterday\n")
        mb += "From sender@example.net Mon Jan  1 00:00:0%d 2024\n" % i + msg("mbox %d" % i, body) + "\n"
    write(os.path.join(d, "box.mbox"), mb)
    rc, recs, err = run([os.path.join(d, "box.mbox")])
    check("mboxo: 'From here on...' body lines are not separators",
          subjects(recs) == ["mbox 0", "mbox 1", "mbox 2"], subjects(recs))
    check("mboxo: source.index counts messages", [r["source"]["index"] for r in recs] == [0, 1, 2])

    # CRLF mbox, mboxrd quoting, a separator without a blank line before it
    crlf = "".join("From MAILER-DAEMON Tue Feb  6 10:00:%02d 2024\n" % i +
                   msg("crlf %d" % i, ">From quoted line\n") + "\n" for i in range(5))
    write(os.path.join(d, "crlf.mbox"), crlf.replace("\n", "\r\n"))
    rc, recs, err = run([os.path.join(d, "crlf.mbox")])
    check("CRLF mbox of 5", subjects(recs) == ["crlf %d" % i for i in range(5)], subjects(recs))
    tight = ("From a@b Mon Jan  1 00:00:00 2024\n" + msg("tight 0") +
             "From a@b Mon Jan  1 00:00:01 2024\n" + msg("tight 1"))
    write(os.path.join(d, "tight.mbox"), tight)
    rc, recs, err = run([os.path.join(d, "tight.mbox")])
    check("a full ctime From_ line without a blank line before it separates",
          subjects(recs) == ["tight 0", "tight 1"], subjects(recs))

    # Maildir: cur/ then new/, tmp/ ignored
    md = os.path.join(d, "Maildir")
    write(os.path.join(md, "cur", "1700000001.M1P1.host:2,S"), msg("maildir cur 1"))
    write(os.path.join(md, "cur", "1700000002.M2P1.host:2,S"), msg("maildir cur 2"))
    write(os.path.join(md, "new", "1700000003.M3P1.host"), msg("maildir new 3"))
    write(os.path.join(md, "tmp", "1700000004.M4P1.host"), msg("maildir tmp"))
    rc, recs, err = run([md])
    check("Maildir: cur then new, not tmp",
          subjects(recs) == ["maildir cur 1", "maildir cur 2", "maildir new 3"], subjects(recs))

    # a directory of files, recursive, sorted; an mbox inside is split
    dd = os.path.join(d, "dir")
    write(os.path.join(dd, "a.eml"), msg("dir a"))
    write(os.path.join(dd, "b", "c.txt"), msg("dir b/c"))
    write(os.path.join(dd, "d.mbox"), "From x Mon Jan  1 00:00:00 2024\n" + msg("dir d 0") +
          "\nFrom x Mon Jan  1 00:00:00 2024\n" + msg("dir d 1"))
    rc, recs, err = run([dd + "/"])
    check("directory: recursive, in name order, mboxes split",
          subjects(recs) == ["dir a", "dir b/c", "dir d 0", "dir d 1"], subjects(recs))
    check("directory: paths without doubled slashes",
          all("//" not in r["source"]["path"] for r in recs), [r["source"]["path"] for r in recs])

    # standard input
    rc, recs, err = run(["-"], stdin=msg("stdin").encode())
    check("stdin: one record", rc == 0 and subjects(recs) == ["stdin"])
    rc, recs, err = run(["-"], stdin=(mb).encode())
    check("stdin: an mbox is split", subjects(recs) == ["mbox 0", "mbox 1", "mbox 2"])

    # errors: each still gets its record; exit statuses per the contract
    write(os.path.join(d, "empty.eml"), "")
    write(os.path.join(d, "junk.bin"), bytes(range(256)) * 4)
    rc, recs, err = run([os.path.join(d, "empty.eml"), os.path.join(d, "lf.eml"),
                         os.path.join(d, "junk.bin")])
    check("empty file and binary junk: a record each with an error, exit 1",
          rc == 1 and len(recs) == 3 and recs[0]["error"] and recs[1]["error"] is None
          and recs[2]["error"], (rc, [r.get("error") for r in recs]))
    check("errors are named on stderr with the file", "empty.eml" in err and "junk.bin" in err, err)
    rc, recs, err = run([os.path.join(d, "does-not-exist")])
    check("a path that cannot be opened: exit 3", rc == 3 and recs == [], (rc, err))
    p = subprocess.run([spamtrace, "trace"], capture_output=True)
    check("no PATH: usage error, exit 2", p.returncode == 2)

    # NUL bytes in the header block are data
    write(os.path.join(d, "nul.eml"), msg("nul").replace("To: u@", "To: u\0x@"))
    rc, recs, err = run([os.path.join(d, "nul.eml")])
    check("NUL bytes: still one valid record", len(recs) == 1 and recs[0]["subject"] == "nul")

    # RFC 2047 and raw 8-bit subjects decode to UTF-8
    write(os.path.join(d, "jis.eml"), msg("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="))
    write(os.path.join(d, "sjis.eml"), msg("PLACEHOLDER").encode().replace(b"PLACEHOLDER", "テスト".encode("shift_jis"), 1))
    write(os.path.join(d, "w1252.eml"), msg("PLACEHOLDER").encode().replace(b"PLACEHOLDER", "café".encode("cp1252"), 1))
    write(os.path.join(d, "split.eml"), msg("=?utf-8?B?44OQ44Km44Oz44K544Oh44O844Or44Gu44OG44K544OIKOaXpQ==?=\n"
                                            " =?utf-8?B?5pys6KqeKQ==?="))
    write(os.path.join(d, "euc.eml"), msg("PLACEHOLDER").encode().replace(b"PLACEHOLDER", "テスト".encode("euc_jp"), 1))
    for name, want in (("jis", "テスト"), ("sjis", "テスト"), ("w1252", "café"),
                       ("euc", "テスト"), ("split", "バウンスメールのテスト(日本語)")):
        rc, recs, err = run([os.path.join(d, name + ".eml")])
        check("subject decoded: %s" % name, recs and recs[0]["subject"] == want, recs and recs[0]["subject"])

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
