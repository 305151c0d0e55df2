#!/usr/bin/env python3
"""safety.py - spamtrace touches the network only when asked (issue 7).

Every run is watched with `strace -f` (network system calls):

  trace_no_network     trace --json on messages full of URLs, addresses
                       and attachments, the examples and the shared corpus
                       mailbox: no socket(), no connect().
  bounces_no_network   the same for bounces --json.
  dns_control          trace --dns --resolver 127.0.0.1:PORT: strace does
                       see its sockets (the check above is not blind), and
                       they go to the resolver given only.
  probe_open_relay_no_data  the same against a fake open relay (every RCPT
                       accepted): still no DATA.
  report_no_send       report --out DIR without --send: no IP socket, no
                       connect(); the letters land in DIR.
  probe_only_target    probe against a fake SMTP server on 127.0.0.1: every
                       IP connect() goes to that address and port; the
                       server never sees DATA and does see QUIT.

usage: safety.py SPAMTRACE SOURCE_DIR
Exit 77 (skipped) without strace.  Prints "N passed, N failed".
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

CLI = None
SRC = None
TMP = None
results = []

URL_MSG = b'''Received: from mail.example.net (mail.example.net [198.51.100.7])
\tby mx.example.org (Postfix) with ESMTP id 4F1; Mon, 1 Jan 2007 00:00:00 +0900
Received: from [203.0.113.9] (helo=www.example.com) by mail.example.net; Mon, 1 Jan 2007 00:00:00 +0900
From: "http://phish.example.com/login" <win@lottery.example.com>
To: user@example.org
Reply-To: collect@evil.example.com
Subject: Claim http://198.51.100.99/claim?id=1 now
Date: Mon, 1 Jan 2007 00:00:00 +0900
Message-ID: <1@lottery.example.com>
List-Unsubscribe: <http://unsub.example.com/u?x=1>, <mailto:unsub@example.com>
X-Image: https://tracker.example.com/pixel.gif
Content-Type: multipart/mixed; boundary="b"
MIME-Version: 1.0

--b
Content-Type: text/html

<img src="http://tracker.example.com/p.gif"><a href="https://[2001:db8::1]/x">
<iframe src="ftp://files.example.com/x"></iframe>
<link rel="stylesheet" href="//cdn.example.com/s.css">
--b
Content-Type: message/external-body; access-type=URL; URL="http://example.com/f"

--b
Content-Type: application/octet-stream; name="x.pdf"
Content-Disposition: attachment; filename="x.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K
--b--
'''

URL_BOUNCE = b'''Received: from mx.example.org (mx.example.org [192.0.2.25])
\tby mail.example.jp (Postfix) with ESMTP id 7A; Mon, 1 Jan 2007 00:00:00 +0900
From: MAILER-DAEMON@example.org (Mail Delivery System)
To: user@example.jp
Subject: Undelivered Mail Returned to Sender
Date: Mon, 1 Jan 2007 00:00:00 +0900
Content-Type: multipart/report; report-type=delivery-status; boundary="r"
MIME-Version: 1.0

--r
Content-Type: text/plain

See http://help.example.org/bounce and https://postmaster.example.org/ .
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 see http://example.org/550

--r
Content-Type: message/rfc822

''' + URL_MSG + b'''
--r--
'''


def strace(args, syscalls='network', timeout=120, env=None, cwd=None):
    """Run the CLI under strace -f; returns (exit status, syscall lines)."""
    log = os.path.join(TMP, 'strace.log')
    # LeakSanitizer cannot run under ptrace: leaks are the other tests' job
    env = dict(env if env is not None else os.environ)
    env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') +
                           ':detect_leaks=0').lstrip(':')
    if os.path.exists(log):
        os.unlink(log)
    p = subprocess.run(['strace', '-f', '-qq', '-e', 'trace=' + syscalls,
                        '-o', log, CLI] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=env,
                       cwd=cwd or TMP, stdin=subprocess.DEVNULL)
    with open(log, errors='replace') as f:
        lines = [l.rstrip('\n') for l in f]
    for mark in (b'runtime error:', b'ERROR: AddressSanitizer',
                 b'ERROR: LeakSanitizer'):
        if mark in p.stderr:     # sanitizers exit 1, like a bad message
            return 98, lines, p.stdout, p.stderr[p.stderr.find(mark):]
    return p.returncode, lines, p.stdout, p.stderr


def verdict(name, probs):
    results.append((name, probs))
    print('%s %s%s' % ('FAIL' if probs else 'ok  ', name,
                       ''.join('\n     ' + p for p in probs)), flush=True)


def network_calls(lines):
    """socket()/connect()/sendto() etc.: anything that may reach out.
    AF_UNIX sockets are reported too: nothing here needs them."""
    return [l for l in lines if re.search(
        r'\b(socket|connect|sendto|sendmsg|sendmmsg|bind|listen|accept4?)\(',
        l)]


def inputs():
    paths = [put('urls.eml', URL_MSG), put('url-bounce.eml', URL_BOUNCE),
             os.path.join(SRC, 'examples')]
    mbox = os.path.join(SRC, '..', 'shared', 'corpus', 'bounces', 'mailbox',
                        'mbox-0')
    if os.path.exists(mbox):
        paths.append(os.path.abspath(mbox))
    else:
        print('note: ../shared/corpus not found: corpus mailbox not used')
    return paths


def put(name, data):
    path = os.path.join(TMP, name)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def t_no_network(cmd):
    probs = []
    for path in inputs():
        rc, lines, out, err = strace([cmd, '--json', path])
        if rc not in (0, 1):
            probs.append('%s %s: exit %d: %s' % (cmd, path, rc,
                                                  err[-300:].decode()))
        calls = network_calls(lines)
        if calls:
            probs.append('%s %s made network calls: %s' % (cmd, path,
                                                           calls[:3]))
        if not out.strip():
            probs.append('%s %s: no output' % (cmd, path))
    return probs


def t_dns_control():
    """The strace check is not blind: --dns does open sockets, all to the
    resolver named."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(('127.0.0.1', 0))
    port = srv.getsockname()[1]
    try:
        rc, lines, _, err = strace(['trace', '--json', '--dns', '--resolver',
                                    '127.0.0.1:%d' % port,
                                    put('urls.eml', URL_MSG)], timeout=120)
    finally:
        srv.close()
    probs = []
    conns = [l for l in lines if re.search(r'\b(connect|sendto)\(', l)]
    if not any('socket(' in l for l in lines):
        probs.append('trace --dns made no socket(): is strace working?')
    for l in conns:
        if 'sa_family=' in l and 'htons(%d)' % port not in l:
            probs.append('--dns talked to another address: %s' % l)
    return probs


def t_report_no_send():
    out = os.path.join(TMP, 'reports-out')
    home = os.path.join(TMP, 'home')
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, 'data'))
    probs = []
    for args in (['--out', out], ['--out', out, '--arf'],
                 ['--out', out, '--lang', 'ja']):
        rc, lines, _, err = strace(['report', '--json'] + args +
                                   ['--db', os.path.join(TMP, 'cases.sqlite'),
                                    put('urls.eml', URL_MSG)], env=env)
        if rc not in (0, 1):
            probs.append('report %s: exit %d: %s' % (args, rc,
                                                      err[-300:].decode()))
        calls = [l for l in network_calls(lines)
                 if 'AF_INET' in l or 'connect(' in l or 'sendto(' in l]
        if calls:
            probs.append('report %s without --send: %s' % (args, calls[:3]))
    if not os.path.isdir(out) or not os.listdir(out):
        probs.append('report wrote nothing into --out %s' % out)
    if os.path.exists(os.path.join(TMP, 'reports')):
        probs.append('report wrote into ./reports despite --out')
    return probs


class FakeSMTP(threading.Thread):
    """A minimal SMTP server on 127.0.0.1 that refuses every RCPT and
    records every command; it serves until stopped (each read times out)."""

    def __init__(self, open_relay=False):
        super().__init__(daemon=True)
        self.open_relay = open_relay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.commands = []
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        c.settimeout(10)
        f = c.makefile('rwb')
        try:
            f.write(b'220 fake.example ESMTP\r\n')
            f.flush()
            for line in f:
                cmd = line.strip().decode('latin-1')
                self.commands.append(cmd)
                verb = cmd.split(' ', 1)[0].upper()
                if verb == 'EHLO':
                    f.write(b'250-fake.example\r\n250 PIPELINING\r\n')
                elif verb == 'QUIT':
                    f.write(b'221 bye\r\n')
                    f.flush()
                    break
                elif verb == 'RCPT' and not self.open_relay:
                    f.write(b'554 5.7.1 Relay access denied\r\n')
                elif verb == 'DATA':
                    f.write(b'554 no DATA here\r\n')
                else:
                    f.write(b'250 ok\r\n')
                f.flush()
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


def t_probe_only_target(open_relay):
    srv = FakeSMTP(open_relay)
    srv.start()
    try:
        rc, lines, out, err = strace(['probe', '--json', '--timeout', '10',
                                      '127.0.0.1:%d' % srv.port],
                                     syscalls='connect,sendto,sendmsg',
                                     timeout=180)
    finally:
        srv.close()
    probs = []
    if rc not in (0, 1):
        probs.append('probe exit %d: %s' % (rc, err[-300:].decode()))
    seen = 0
    for l in lines:
        m = re.search(r'sa_family=(AF_\w+)', l)
        if not m:
            continue
        fam = m.group(1)
        if fam == 'AF_UNSPEC':
            continue
        if fam == 'AF_INET' and 'inet_addr("127.0.0.1")' in l and \
                'htons(%d)' % srv.port in l:
            seen += 1
            continue
        probs.append('probe connected elsewhere: %s' % l)
    if seen == 0:
        probs.append('no connect() to the fake server seen')
    if any(c.split(' ', 1)[0].upper() == 'DATA' for c in srv.commands):
        probs.append('the probe sent DATA')
    if not any(c.upper().startswith('QUIT') for c in srv.commands):
        probs.append('the probe never said QUIT: %r' % srv.commands[-5:])
    return probs


def main():
    global CLI, SRC, TMP
    CLI = os.path.abspath(sys.argv[1])
    SRC = os.path.abspath(sys.argv[2])
    if shutil.which('strace') is None:
        print('skipped: strace not installed (scripts/install-deps --test)')
        return 77
    with tempfile.TemporaryDirectory(prefix='hostile-safety-') as tmp:
        TMP = tmp
        p = subprocess.run(['strace', '-f', '-qq', '-o', os.devnull, 'true'],
                           capture_output=True)
        if p.returncode != 0:
            print('skipped: strace cannot trace here: %s' % p.stderr[-200:])
            return 77
        verdict('trace_no_network', t_no_network('trace'))
        verdict('bounces_no_network', t_no_network('bounces'))
        verdict('dns_control', t_dns_control())
        verdict('report_no_send', t_report_no_send())
        verdict('probe_only_target', t_probe_only_target(False))
        verdict('probe_open_relay_no_data', t_probe_only_target(True))
    npass = sum(1 for _, p in results if not p)
    print('%d passed, %d failed' % (npass, len(results) - npass))
    return 1 if npass != len(results) else 0


if __name__ == '__main__':
    sys.exit(main())
