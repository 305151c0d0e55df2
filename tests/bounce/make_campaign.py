#!/usr/bin/env python3
"""Write tests/bounce/cases/campaign.mbox: a joe-job campaign of known shape.

The user is taro@mbox.example.ne.jp (Japan); someone forged that address on
spam sent through four open relays, and the recipients' servers bounced it.
Two genuine bounces (mail the user really sent through the provider's
smtp.example.ne.jp), one auto-reply to the forged mail, two ordinary
messages and one message that is not mail at all.  campaign.expect.json
holds the summary this must give; the origins are the relays, most first.
Run it again only to change the case; the mbox is kept in the tree.
"""
import os

ME = "taro@mbox.example.ne.jp"
RELAYS = {
    "A": ("relay1.example.com.br", "198.51.100.10"),
    "B": ("mail.school.example.ac.jp", "203.0.113.20"),
    "C": ("gw.example.de", "198.51.100.30"),
    "D": ("mx.example.co.kr", "198.51.100.40"),
}


def orig_spam(relay, n, rcpt, bouncer, day, hour):
    host, ip = RELAYS[relay]
    return (f"Received: from {host} ({host} [{ip}])\n"
            f"\tby {bouncer} (8.9.3/8.9.3) with SMTP id X{n:05d};\n"
            f"\tSat, {day} Mar 2001 {hour:02d}:10:00 +0000\n"
            f"Received: from my.yahoo.com (pc{n}.dialup.example.org [192.0.2.{n}])\n"
            f"\tby {host} (8.8.8/8.8.8) with SMTP id A{n:05d};\n"
            f"\tSat, {day} Mar 2001 {hour:02d}:09:00 +0000\n"
            f"From: {ME}\n"
            f"Message-Id: <2001031{n:04d}.A{n:05d}@{host}>\n"
            f"To: <{rcpt}>\n"
            f"Subject: Express Computers {20000 + n}\n"
            f"Date: Sat, {day} Mar 2001 {hour:02d}:08:00 +0000\n")


def orig_genuine(n, rcpt, day, hour):
    return (f"Received: from smtp.example.ne.jp (smtp.example.ne.jp [203.0.113.25])\n"
            f"\tby mx.example.org (8.9.3/8.9.3) with ESMTP id G{n:05d};\n"
            f"\tSat, {day} Mar 2001 {hour:02d}:10:00 +0000\n"
            f"Received: from [192.168.1.10] (p{n}-adsl.example.ne.jp [203.0.113.{100 + n}])\n"
            f"\tby smtp.example.ne.jp (8.11.2/8.11.2) with ESMTPA id S{n:05d};\n"
            f"\tSat, {day} Mar 2001 {hour:02d}:09:00 +0000\n"
            f"From: Taro <{ME}>\n"
            f"Message-Id: <2001031{n:04d}.S{n:05d}@mbox.example.ne.jp>\n"
            f"To: <{rcpt}>\n"
            f"Subject: about the meeting\n"
            f"Date: Sat, {day} Mar 2001 {hour:02d}:08:00 +0000\n")


def arrival(bouncer, ip, n, day, hour):
    return (f"Received: from {bouncer} ({bouncer} [{ip}])\n"
            f"\tby mx.example.ne.jp (8.9.3/8.9.3) with ESMTP id R{n:05d}\n"
            f"\tfor <{ME}>; Sat, {day} Mar 2001 {hour:02d}:20:00 +0000\n")


def qmail(n, relay, day, hour, orig=None):
    bouncer, bip = f"mx.q{n}.example.net", f"198.51.100.{150 + n}"
    rcpt = f"user{n}@q{n}.example.net"
    o = orig or orig_spam(relay, n, rcpt, bouncer, day, hour)
    return (f"From MAILER-DAEMON Sat Mar {day} {hour:02d}:20:00 2001\n"
            "Return-Path: <>\n" + arrival(bouncer, bip, n, day, hour) +
            f"Date: {day} Mar 2001 {hour:02d}:19:00 -0000\n"
            f"From: MAILER-DAEMON@{bouncer}\nTo: {ME}\nSubject: failure notice\n\n"
            f"Hi. This is the qmail-send program at {bouncer}.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            f"<{rcpt}>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
            "--- Below this line is a copy of the message.\n\n" + o + "\nspam body\n\n")


def dsn(n, relay, day, hour, genuine=False):
    bouncer, bip = f"mail.d{n}.example.com", f"198.51.100.{150 + n}"
    rcpt = f"user{n}@d{n}.example.com"
    o = orig_genuine(n, rcpt, day, hour) if genuine else orig_spam(relay, n, rcpt, bouncer, day, hour)
    return (f"From MAILER-DAEMON Sat Mar {day} {hour:02d}:20:00 2001\n"
            "Return-Path: <>\n" + arrival(bouncer, bip, n, day, hour) +
            f"Date: Sat, {day} Mar 2001 {hour:02d}:19:00 +0000\n"
            f"From: MAILER-DAEMON@{bouncer} (Mail Delivery System)\n"
            f"To: {ME}\nSubject: Undelivered Mail Returned to Sender\n"
            "MIME-Version: 1.0\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b{n}\"\n\n"
            f"--b{n}\nContent-Type: text/plain\n\n"
            f"This is the mail system at host {bouncer}.\n\n"
            f"<{rcpt}>: host mx.d{n}.example.com[198.51.100.{200 + n}] said: 550 5.1.1\n"
            f"    <{rcpt}>: Recipient address rejected: User unknown (in reply to RCPT\n"
            "    TO command)\n\n"
            f"--b{n}\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; {bouncer}\n\n"
            f"Final-Recipient: rfc822; {rcpt}\nAction: failed\nStatus: 5.1.1\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown\n\n"
            f"--b{n}\nContent-Type: text/rfc822-headers\n\n" + o +
            f"\n--b{n}--\n\n")


def exim(n, relay, day, hour):
    bouncer, bip = f"e{n}.example.org", f"198.51.100.{150 + n}"
    rcpt = f"user{n}@x{n}.example.org"
    o = orig_spam(relay, n, rcpt, bouncer, day, hour)
    return (f"From MAILER-DAEMON Sat Mar {day} {hour:02d}:20:00 2001\n"
            "Return-Path: <>\n" + arrival(bouncer, bip, n, day, hour) +
            f"Date: Sat, {day} Mar 2001 {hour:02d}:19:00 +0000\n"
            f"X-Failed-Recipients: {rcpt}\n"
            f"From: Mail Delivery System <Mailer-Daemon@{bouncer}>\nTo: {ME}\n"
            "Subject: Mail delivery failed: returning message to sender\n\n"
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  {rcpt}\n    mailbox is full: retry timeout exceeded\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            + o + "\nspam\n\n")


def plain(n, day, hour, subject):
    return (f"From hanako@example.org Sat Mar {day} {hour:02d}:20:00 2001\n"
            + arrival("mail.example.org", "198.51.100.7", n, day, hour) +
            f"Date: Sat, {day} Mar 2001 {hour:02d}:19:00 +0000\n"
            f"From: Hanako <hanako@example.org>\nTo: {ME}\nSubject: {subject}\n"
            f"Message-ID: <plain{n}@example.org>\n\nHello.\n\n")


def autoreply(n, day, hour):
    return (f"From klaus@example.de Sat Mar {day} {hour:02d}:20:00 2001\n"
            "Return-Path: <>\n" + arrival("mail.example.de", "198.51.100.77", n, day, hour) +
            f"Date: Sat, {day} Mar 2001 {hour:02d}:19:00 +0000\n"
            f"From: Klaus <klaus@example.de>\nTo: {ME}\n"
            "Subject: Abwesenheitsnotiz: Express Computers\n"
            "Auto-Submitted: auto-replied\n"
            f"In-Reply-To: <20010310001.A00001@relay1.example.com.br>\n\n"
            "Ich bin bis 2. April nicht im Buero.\n\n")


def main():
    msgs = [
        qmail(1, "A", 17, 1),
        dsn(2, "B", 17, 3),
        exim(3, "A", 17, 9),
        plain(4, 17, 12, "lunch"),
        qmail(5, "C", 18, 2),
        dsn(6, None, 18, 5, genuine=True),
        dsn(7, "B", 18, 8),
        exim(8, "A", 18, 11),
        autoreply(9, 18, 15),
        "From nobody Sun Mar 18 16:00:00 2001\nthis is not a header line\n\nnor a message\n\n",
        dsn(11, "C", 19, 1),
        qmail(12, None, 19, 4, orig=orig_genuine(12, "user12@q12.example.net", 19, 4)),
        qmail(13, "D", 19, 7),
        plain(14, 19, 10, "Newsletter March"),
    ]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases", "campaign.mbox")
    with open(out, "w", encoding="utf-8") as f:
        f.write("".join(msgs))


if __name__ == "__main__":
    main()
