#!/usr/bin/env python3
"""Render `spamtrace bounces --html` in headless Chromium (Debian's
chromium) and check what a person would see: a screenshot that is not
blank, and in the DOM the origin table's rows (one per relay of the
campaign case, most first), the counts and the inline SVG chart.
Exit 77 when chromium is not installed.

usage: html_check.py SPAMTRACE MAILBOX
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def main():
    cli, mbox = sys.argv[1], sys.argv[2]
    chromium = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if chromium is None:
        print("skipped: chromium is not installed (apt-get install chromium)")
        return 77
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        html = os.path.join(d, "report.html")
        png = os.path.join(d, "report.png")
        p = subprocess.run([cli, "bounces", "--me", "taro@mbox.example.ne.jp",
                            "--html", html, mbox], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        page = open(html, encoding="utf-8").read()
        checks = [
            ("no external resources", not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)),
            ("no scripts", "<script" not in page.lower()),
        ]
        prof = os.path.join(d, "profile")
        subprocess.run([chromium, *FLAGS, f"--user-data-dir={prof}",
                        f"--screenshot={png}", "--window-size=1200,1600",
                        "file://" + html], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        size = os.path.getsize(png) if os.path.exists(png) else 0
        checks.append((f"screenshot written ({size} bytes)", size > 20000))
        dom = subprocess.run([chromium, *FLAGS, f"--user-data-dir={prof}",
                              "--dump-dom", "file://" + html],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=120).stdout.decode("utf-8", "replace")
        rows = re.findall(r'<tr class="origin">(.*?)</tr>', dom, re.S)
        ips = [re.findall(r"<td>([^<]*)</td>", r)[0] for r in rows]
        checks.append((f"origin rows in the DOM: {ips}",
                       ips == ["198.51.100.10", "203.0.113.20",
                               "198.51.100.30", "198.51.100.40"]))
        checks.append(("counts shown", re.search(r'id="backscatter"><b>9</b>', dom) is not None))
        checks.append(("chart drawn", dom.count('class="bar"') == 3))
        checks.append(("drill-down", dom.count("<details") == 4))
        if os.environ.get("ST_KEEP_PNG"):
            shutil.copy(png, os.environ["ST_KEEP_PNG"])
    for what, ok in checks:
        print(("ok   " if ok else "FAIL ") + what)
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
