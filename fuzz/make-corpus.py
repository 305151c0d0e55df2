#!/usr/bin/env python3
"""make-corpus.py - (re)build the seed corpora fuzz/corpus/<target>/.

Seeds come from the project's own test data (examples/, tests/*/), from
../shared/corpus (sisimai set-of-emails bounces, BSD 2-Clause; SpamAssassin
t/rcvd_parser.t Received values, Apache 2.0) and from hand-written edge
cases below.  Each seed is small (<= 16 KiB) so the fuzzers stay fast.
Run from anywhere:  python3 fuzz/make-corpus.py  (overwrites the seeds it
makes; never touches fuzz/repro/).
"""
import glob
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, '..', 'shared', 'corpus')
MAXSEED = 16384


def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogateescape')
    data = data[:MAXSEED]
    name = re.sub(r'[^A-Za-z0-9._-]', '_', name)[:80]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def header_values(msg, wanted):
    """Unfolded-ish raw values of the header fields named in wanted."""
    head = re.split(rb'\r?\n\r?\n|\r\r', msg, maxsplit=1)[0]
    out = []
    cur = None
    for line in re.split(rb'\r\n|\n|\r', head):
        if line[:1] in (b' ', b'\t') and cur is not None:
            cur[1] += b'\r\n' + line
            continue
        m = re.match(rb'([^:\s]+)\s*:(.*)', line)
        if not m:
            cur = None
            continue
        cur = [m.group(1), m.group(2)]
        if m.group(1).lower() in wanted:
            out.append(cur)
    return [(n, v.strip()) for n, v in out]


def messages():
    """(name, bytes) of small real messages, in a fixed order."""
    files = sorted(glob.glob(os.path.join(ROOT, 'examples', '*.eml')))
    files += sorted(glob.glob(os.path.join(ROOT, 'tests', '*', '*.eml')))
    files += sorted(glob.glob(os.path.join(ROOT, 'tests', '*', '*', '*.eml')))
    out = [(os.path.basename(f), read(f)) for f in files]
    return [(n, d) for n, d in out if len(d) <= MAXSEED]


def bounces():
    out = []
    for sub in ('bsd', 'dos', 'mac', 'not'):
        for f in sorted(glob.glob(os.path.join(SHARED, 'bounces', sub, '*'))):
            d = read(f)
            if len(d) <= MAXSEED:
                out.append((sub + '-' + os.path.basename(f), d))
    return out


def pick(items, n):
    """n items spread evenly over the list (deterministic)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


HAND_MSGS = {
    'empty': b'',
    'one-line': b'Subject: x',
    'no-colon': b'this is not a header\n\nbody\n',
    'nul': b'Received: from a\x00b by c; 1 Jan 2020 00:00:00 +0000\nSubject: \x00\n\n',
    'cr-only': b'Received: from a ([192.0.2.1]) by b; Mon, 1 Jan 2007 00:00:00 +0900\rFrom: a@b\rSubject: x\r\rbody',
    'crlf': b'Received: from a (a [192.0.2.1])\r\n\tby b with SMTP id 1;\r\n\tMon, 1 Jan 2007 00:00:00 +0900\r\nFrom: "=?ISO-2022-JP?B?GyRCJEgbKEI=?=" <a@example.jp>\r\n\r\nbody\r\n',
    'from-line': b'From sender@example.com Mon Jan  1 00:00:00 2007\nSubject: hi\n\n',
    'continuation-first': b' folded first\nSubject: x\n\n',
    'ws-before-colon': b'Subject  : x\nReceived \t: from a by b\n\n',
    'truncated': b'Received: from a.example (a.example [198.51.100.7])\n\tby mx.example.jp (Postfix) with ESMTP id 4F',
    'multipart-noboundary': b'Content-Type: multipart/report; report-type=delivery-status\n\n--x\n',
}

HAND_DATES = [
    'Fri, 3 Mar 2006 20:54:40 +0900 (JST)', '3 Mar 2006 11:54:27 -0000',
    'Sun Nov 13 14:50:12 2005', '8 Mar 04 12:23:56 -0000',
    'Thu, 23 Sep 2004 14:35:29 -0600 (MDT)', 'Mon, 1 Jan 99999 00:00:00 +0000',
    'Mon, 32 Foo 2006 25:61:61 -9999', '1 Jan 1970 00:00:00 Z',
    'Tue, 06 Jan 2004 22:09:53 +0000', '31 Dec 9999 23:59:59 +1400',
    '29 Feb 2001 00:00:00 GMT', '1 Jan 0 00:00 EST', '', ',,,..',
    '12 13 2006 10:00:00 +0900', 'Sat, 11 Mar 2006 21:51:40 JST',
    '2006-03-11T12:51:40Z', '11 Mar 2006 12:51 A',
    '99999999999999999999 Jan 2006 00:00:00 +0000',
]

HAND_2047 = [
    '=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=',
    '=?iso-2022-jp?B?GyRCJEgbKEI?= =?UTF-8?Q?caf=C3=A9?=',
    '=?Shift_JIS?B?gqCCooKk?=', '=?EUC-JP?B?pLOk86TLpMGkzw==?=',
    '=?x-unknown?B?AAECAwQ=?=', '=?utf-8?Q?broken=ZZ=?=',
    '=?utf-8?B?!!!notbase64!!!?=', '=?UTF-8*ja?B?5pel5pys?=',
    '=?=?=?=?', '=?utf-8?X?abc?=', '\x1b$B$3$s$K$A$O\x1b(B',
    '\x1b$B$3$s broken escape', '\x1b(J\x1b$@\x1b', 'caf\xe9 na\xefve',
    '\x82\xa0\x82\xa2', '\xa4\xb3\xa4\xf3', 'plain ascii subject',
    '\x1b[31mred\x1b[0m terminal escape', 'tab\there\r\n folded',
]

HAND_REPLIES = [
    '220 mx.example.com ESMTP Postfix\r\n',
    '250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n',
    '550 5.7.1 <a@b>: Relay access denied\r\n',
    '554-too\r\n554-many\r\n554 lines\r\n', '421 4.3.2 Service not available\r\n',
    '250 ok\n', '2', '250', '250-', '999 what\r\n', 'abc def\r\n',
    '250-a\r\n251 b\r\n', '220\r\n', '220-\r\n220 \r\n',
    '530 5.7.0 Must issue a STARTTLS command first\r\n',
    '\x00\x00\x00\r\n', '250 ' + 'x' * 600 + '\r\n',
    '451-4.7.1 greylisted\r\n451-4.7.1 see http://example/\r\n451 4.7.1 later\r\n',
]

HAND_CONFIGS = [
    '# spamtrace config\ntrust = 203.0.113.0/24, mx.example.jp, .example.jp\nme = user@example.jp\n',
    'dnsbl = zen.spamhaus.org\nresolver = 127.0.0.1:5353\ndns_timeout = 3000\n',
    'date_skew_tolerance = 86400\ntime_travel_tolerance = 900\n',
    'dynamic_direct = reject\nbackscatter = tag\nmy_outbound = 203.0.113.0/24, smtp.example.jp\n',
    'trusted_clients = 127.0.0.0/8, ::1/128, 2001:db8::/32\nfail_open = no\n',
    'trust = 999.1.1.1/33\n', 'trust = ::ffff:1.2.3.4/129\n', '=\n', 'key\n',
    'x = y # comment\r\n', 'dns_timeout = -99999999999999999999\n',
    'unknown_key = value, value2\nabuse_from = a@b\n', '', '\n\n\n# only\n',
    'trust = \n', 'resolver = [::1]:53\n', 'me = \x00\n',
]


def main():
    msgs = messages()
    bnc = bounces()
    # msg and trace: real messages and the hand-made edge cases
    for n, d in msgs + pick(bnc, 20):
        put('msg', n, d)
    for n, d in msgs + pick(bnc, 12):
        put('trace', n, d)
    for n, d in HAND_MSGS.items():
        put('msg', 'hand-' + n, d)
        put('trace', 'hand-' + n, d)
    # bounce: real bounces (every kind of sender) and the non-bounces
    for n, d in pick(bnc, 60):
        put('bounce', n, d)
    put('bounce', 'hand-multipart-noboundary', HAND_MSGS['multipart-noboundary'])
    # broken header blocks the bounce reader reads as GMime does
    for f in sorted(glob.glob(os.path.join(ROOT, 'tests', 'bounce', 'gmime',
                                           '*.eml'))):
        with open(f, 'rb') as fh:
            put('bounce', 'gmime-' + os.path.basename(f), fh.read())
    # received, date, rfc2047: values taken out of the messages
    rcvd, dates, words = [], [], []
    for n, d in msgs + bnc:
        for name, v in header_values(d, {b'received', b'date', b'subject',
                                         b'from', b'to'}):
            if name.lower() == b'received':
                rcvd.append(v)
                m = v.rsplit(b';', 1)
                if len(m) == 2:
                    dates.append(m[1].strip())
            elif name.lower() == b'date':
                dates.append(v)
            else:
                words.append(v)
    tsv = os.path.join(SHARED, 'received', 'spamassassin-rcvd.tsv')
    if os.path.exists(tsv):
        for line in read(tsv).split(b'\n')[1:]:
            cols = line.split(b'\t')
            if len(cols) >= 2:
                rcvd.append(cols[1].replace(b'\\n', b'\n').replace(b'\\t', b'\t'))

    def dedup(vals):
        seen, out = set(), []
        for v in vals:
            if v not in seen:
                seen.add(v)
                out.append(v)
        return out
    for i, v in enumerate(pick(dedup(rcvd), 60)):
        put('received', 'rcvd-%02d-%s' % (i, hashlib.sha1(v).hexdigest()[:8]), v)
    for i, v in enumerate(pick(dedup(dates), 40)):
        put('date', 'real-%02d' % i, v)
    for i, v in enumerate(HAND_DATES):
        put('date', 'hand-%02d' % i, v.encode('latin-1'))
    for i, v in enumerate(pick(dedup([w for w in words if b'=?' in w or
                                      max(w, default=0) > 127]), 30)):
        put('rfc2047', 'real-%02d' % i, v)
    for i, v in enumerate(HAND_2047):
        put('rfc2047', 'hand-%02d' % i, v.encode('latin-1'))
    for i, v in enumerate(HAND_REPLIES):
        put('smtp_reply', 'hand-%02d' % i, v.encode('latin-1'))
    for i, v in enumerate(HAND_CONFIGS):
        put('config', 'hand-%02d' % i, v.encode('latin-1'))
    # mbox: the real mailboxes' edge cases, small mboxes made of messages
    mb = os.path.join(SHARED, 'bounces', 'mailbox')
    for f in ('mbox-1', 'size-0', 'size-1', 'size-2'):
        p = os.path.join(mb, f)
        if os.path.exists(p):
            put('mbox', f, read(p))
    p = os.path.join(mb, 'mbox-0')
    if os.path.exists(p):
        d = read(p)
        parts = re.split(rb'\n(?=From )', d)
        for i in range(0, min(len(parts), 12), 3):
            put('mbox', 'mbox-0-part%02d' % i, b'\n'.join(parts[i:i + 3]))
    small = [d for n, d in msgs[:6]]
    env = b'From sender@example.com Mon Jan  1 00:00:00 2007\n'
    box = b''.join(env + m.rstrip(b'\n') + b'\n\n' for m in small)
    put('mbox', 'made-lf', box)
    put('mbox', 'made-crlf', box.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n'))
    put('mbox', 'body-from', env + b'Subject: x\n\nFrom here on it is body\n'
        b'From a@b Mon Jan  1 00:00:00 2007 no blank before\n\n' + env +
        b'Subject: y\n\n')
    put('mbox', 'mboxrd', env + b'Subject: x\n\n>From quoted\n>>From twice\n')
    put('mbox', 'not-mbox', b'Subject: plain message\n\nFrom a body\n')
    put('mbox', 'from-only', b'From ')
    put('mbox', 'from-nothing', b'From \nFrom \n\nFrom x 1:00 2007\n')


if __name__ == '__main__':
    sys.exit(main())
