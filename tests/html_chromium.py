#!/usr/bin/python3
"""html_chromium.py SIGSTEP MATRIX_HTML MATRIX_JSON
   html_chromium.py --dom-only PAGE JSON


The --html page as a browser sees it (Debian's chromium, headless, with
the flags that need no network):
  1. the matrix's page, its DOM dumped by Chromium, holds what the
     matrix's JSON says: the same rows in the same order, met or not,
     the verdict counts, one strip cell per instruction with no verdict
     the row did not give, a failing cell exactly where the row failed,
     and the violations listed;
  2. screenshots of one run's page under go1.11 (colours read from the
     page's own style): seed's strip is mostly failing colours, master's
     has none beyond the legend's swatches and is green.
--dom-only does the first only, for any page and the JSON of the same
run (sigstep go's).  Exit 77 (skipped) without chromium.
"""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("html_chromium: SKIP: chromium is not installed (ci/bootstrap.sh installs it)")
    sys.exit(77)
dom_only = sys.argv[1] == "--dom-only"
sigstep, page, records = (None if dom_only else sys.argv[1]), sys.argv[2], sys.argv[3]
tmp = tempfile.mkdtemp()
failures = []


def browser(*args):
    """Chromium headless on a fresh profile; its stdout."""
    profile = tempfile.mkdtemp(dir=tmp)
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + profile] + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120, check=True).stdout


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.violations, self.in_strip = [], 0, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "").split()
        if tag == "div" and "row" in cls:
            self.rows.append({"attrs": a, "cells": []})
        elif tag == "span" and "cell" in cls and self.rows and "title" in a:
            self.rows[-1]["cells"].append([c[2:] for c in cls if c.startswith("v-")][0])
        elif tag == "tr" and "violation" in cls:
            self.violations += 1


# 1. the matrix page against the matrix's JSON
dom = browser("--dump-dom", "file://" + os.path.abspath(page)).decode()
p = Page()
p.feed(dom)
recs = json.load(open(records))
passing = {"full", "caller"}
if len(p.rows) != len(recs):
    failures.append("%d rows on the page, %d records" % (len(p.rows), len(recs)))
want_violations = 0
for row, rec in zip(p.rows, recs):
    a, name = row["attrs"], rec["name"]
    if a["data-name"] != name:
        failures.append("row %s where the JSON has %s" % (a["data-name"], name))
        break
    if a["data-met"] != ("yes" if rec["met"] else "no"):
        failures.append("%s: met %s on the page" % (name, a["data-met"]))
    for v, n in rec["verdicts"].items():
        if int(a["data-" + v]) != n:
            failures.append("%s: %s %s on the page, %d in the JSON" % (name, v, a["data-" + v], n))
    given = {v for v, n in rec["verdicts"].items() if n}
    cells = set(row["cells"])
    if len(row["cells"]) != int(a["data-cells"]) or (rec["boundaries"] and not row["cells"]):
        failures.append("%s: %d cells" % (name, len(row["cells"])))
    if not cells <= given:
        failures.append("%s: cells %s, verdicts given %s" % (name, sorted(cells), sorted(given)))
    if bool(given - passing) != bool(cells - passing):
        failures.append("%s: failing verdicts %s, failing cells %s" % (name, sorted(given - passing), sorted(cells - passing)))
    want_violations += min(len(rec["violations"]), 40)
if p.violations != want_violations:
    failures.append("%d violations listed, %d expected" % (p.violations, want_violations))
print("html_chromium: %s: %d rows, %d strip cells, %d violations listed, as the JSON says" %
      (page, len(p.rows), sum(len(r["cells"]) for r in p.rows), p.violations))
if dom_only:
    for row in p.rows:
        print("html_chromium: %s: cells %s" % (row["attrs"]["data-name"], " ".join(
            "%s %d" % (v, row["cells"].count(v)) for v in sorted(set(row["cells"])))))
    shutil.rmtree(tmp, ignore_errors=True)
    for f in failures[:20]:
        print("html_chromium: FAIL " + f)
    sys.exit(1 if failures else 0)


def pixels(png):
    """RGB tuples of an 8-bit RGB or RGBA PNG (the filters undone)."""
    data = open(png, "rb").read()
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "PNG depth %d type %d" % (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, out = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.extend(tuple(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return out


def near(px, rgb):
    return sum(1 for p in px if all(abs(p[k] - rgb[k]) <= 8 for k in range(3)))


# The colours as the page's own style sheet gives them, by verdict.
style = {}
for name, rgb in re.findall(r"\.v-([a-z]+) \{ background: #([0-9a-f]{6}); \}", dom):
    style[name] = tuple(int(rgb[i:i + 2], 16) for i in (0, 2, 4))
# (greys left out: text is anti-aliased through every grey, and the one
# grey verdict colour, a broken handler's black, is on neither page)
failing_colours = [c for v, c in style.items() if v not in passing and max(c) - min(c) > 40]
passing_colours = [c for v, c in style.items() if v in passing]
counts = {}
for v, era in (("seed", "go1.11"), ("master", "go1.11")):
    run_page = os.path.join(tmp, v + ".html")
    subprocess.run([sigstep, "run", "--arch", "amd64", "--variant", v, "--sigprof", era, "--html", run_page],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shot = os.path.join(tmp, v + ".png")
    browser("--window-size=1280,400", "--hide-scrollbars", "--screenshot=" + shot, "file://" + run_page)
    px = pixels(shot)
    counts[v] = (sum(near(px, c) for c in failing_colours), sum(near(px, c) for c in passing_colours))
legend = 6 * 16 * 2 * len(failing_colours)  # the legend's swatches, with room for scaling
if not counts["seed"][0] > 5 * legend:
    failures.append("seed's screenshot: %d pixels of failing verdicts" % counts["seed"][0])
if not counts["master"][0] <= legend or not counts["master"][1] > 5 * legend:
    failures.append("master's screenshot: %d failing, %d passing pixels" % counts["master"])
print("html_chromium: screenshots (1280x400, go1.11): seed %d pixels of failing verdicts / %d passing, "
      "master %d / %d (the legend's swatches: up to %d)" % (counts["seed"] + counts["master"] + (legend,)))
shutil.rmtree(tmp, ignore_errors=True)
for f in failures[:20]:
    print("html_chromium: FAIL " + f)
sys.exit(1 if failures else 0)
