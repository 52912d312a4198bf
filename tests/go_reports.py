#!/usr/bin/python3
"""go_reports.py SIGSTEP SRC_DIR ARCH FIXTURE junit|sarif|pprof|html

`sigstep go` on the Go 1.19 fixture writes every report, and one real
consumer reads one of them.  Go 1.19's handler (scenarios/go119-real.md)
gives `truncated` at every boundary of the trampoline (the SPWRITE stop:
one frame) and `caller` at every vDSO boundary, so sigstep exits 1 and:
  junit  xmllint --schema tests/schemas/junit.xsd: one testcase, failing;
  sarif  the SARIF checker (tests/validate_sarif.py, GOROOT_SRC given as
         the Go toolchain's GOROOT/src): one result per truncated
         trampoline instruction, each at the Go file:line of the
         program's pclntab, a line inside the trampoline's TEXT block of
         runtime/sys_linux_ARCH.s;
  pprof  `go tool pprof -raw`: one sample per boundary; every truncated
         trampoline boundary a one-frame sample [runtime.nanotime1]
         labelled truncated, its location's line in the TEXT block; no
         passing sample with one frame; each vDSO boundary's sample named
         by the vDSO's symbol and line (labels "at", "source");
  html   headless Chromium's DOM holds what the JSON record says
         (tests/html_chromium.py --dom-only).
Exit 77 (skipped, the reason printed) without the fixture or the consumer.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sigstep, src, arch, fixture, consumer = sys.argv[1:6]
tests = os.path.join(src, "tests")
if not os.access(fixture, os.X_OK):
    print("go_reports: SKIP: no Go fixture for %s at %s (Go toolchain missing at configure time)" % (arch, fixture))
    sys.exit(77)
go = shutil.which("go") or ("/usr/lib/go-1.19/bin/go" if os.access("/usr/lib/go-1.19/bin/go", os.X_OK) else None)
if consumer in ("pprof", "sarif") and not go:
    print("go_reports: SKIP: no go (golang-1.19-go; ci/bootstrap.sh installs it)")
    sys.exit(77)

tmp = tempfile.mkdtemp()
env = dict(os.environ, HOME=tmp, GOCACHE=os.path.join(tmp, "gocache"), GOTOOLCHAIN="local")
failures = []
try:
    out = {k: os.path.join(tmp, "go." + k) for k in ("xml", "sarif", "pb.gz", "html", "json")}
    run = subprocess.run([sigstep, "go", fixture, "--boundaries", "--junit", out["xml"], "--sarif", out["sarif"],
                          "--pprof", out["pb.gz"], "--html", out["html"], "--json", out["json"]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if run.returncode != 1:
        print(run.stderr)
        print("go_reports: FAIL sigstep go exited %d, not 1 (Go 1.19's truncated samples)" % run.returncode)
        sys.exit(1)
    # The boundaries as sigstep judged them: "boundary PC WHERE VERDICT".
    bounds = [l.split() for l in run.stdout.splitlines() if l.startswith("boundary ")]
    in_vdso = {int(b[1], 16) for b in bounds if b[2].startswith("vdso+")}
    truncated = {int(b[1], 16) for b in bounds if not b[2].startswith("vdso+") and b[3] == "truncated"}
    n_truncated = sum(1 for b in bounds if not b[2].startswith("vdso+") and b[3] == "truncated")
    if not truncated or not in_vdso:
        failures.append("%d truncated trampoline boundaries, %d in the vDSO: not Go 1.19's" % (len(truncated), len(in_vdso)))

    def text_block(goroot):
        """The lines of the trampoline's TEXT block in GOROOT's source: its
        file (relative to GOROOT/src) and [first, last]."""
        rel = "runtime/sys_linux_%s.s" % arch
        lines = open(os.path.join(goroot, "src", rel)).read().split("\n")
        first = next(i + 1 for i, l in enumerate(lines) if l.startswith("TEXT runtime\u00b7nanotime1(SB)"))
        last = next((i for i in range(first, len(lines)) if lines[i].startswith("TEXT ")), len(lines))
        return rel, first, last

    goroot = None
    if go:
        goroot = subprocess.run([go, "env", "GOROOT"], stdout=subprocess.PIPE, env=env, universal_newlines=True,
                                check=True).stdout.strip()

    if consumer == "junit":
        r = subprocess.run([os.path.join(tests, "validate_junit.sh"), os.path.join(tests, "schemas", "junit.xsd"),
                            out["xml"], "1", "1"])
        if r.returncode:
            sys.exit(r.returncode)

    if consumer == "html":
        r = subprocess.run([sys.executable, os.path.join(tests, "html_chromium.py"), "--dom-only", out["html"], out["json"]])
        if r.returncode:
            sys.exit(r.returncode)
        page = open(out["html"]).read()
        named = sorted(set(re.findall(r'title="0x[0-9a-f]+ ([^+"]+)\+', page)))
        if any(n.startswith("runtime.end") for n in named):
            failures.append("strip cells named %s" % named)
        print("go_reports: %s html: the strip's functions %s" % (arch, ", ".join(named)))

    if consumer in ("sarif", "pprof"):
        rel, first, last = text_block(goroot)
    if consumer == "sarif":
        r = subprocess.run([sys.executable, os.path.join(tests, "validate_sarif.py"),
                            os.path.join(tests, "schemas", "sarif-2.1.0-subset.schema.json"), out["sarif"], src,
                            "GOROOT_SRC=" + os.path.join(goroot, "src")])
        if r.returncode:
            sys.exit(r.returncode)
        results = json.load(open(out["sarif"]))["runs"][0]["results"]
        pcs = set()
        for res in results:
            pc = int(res["properties"]["pc"], 16)
            pcs.add(pc)
            phys = res["locations"][0].get("physicalLocation")
            if not phys:
                failures.append("result at 0x%x without a physical location" % pc)
                continue
            loc = phys["artifactLocation"]
            line = phys["region"]["startLine"]
            if (loc["uri"], loc.get("uriBaseId")) != (rel, "GOROOT_SRC") or not first <= line < last:
                failures.append("result at 0x%x: %s:%d (%s), not in %s:%d-%d" %
                                (pc, loc["uri"], line, loc.get("uriBaseId"), rel, first, last - 1))
        if pcs != truncated or len(results) != len(truncated):
            failures.append("%d results at %d pcs; %d truncated trampoline boundaries" %
                            (len(results), len(pcs), len(truncated)))
        print("go_reports: %s sarif: %d results, every one at %s:%d-%d (GOROOT_SRC), one per truncated boundary" %
              (arch, len(results), rel, first, last - 1))

    if consumer == "pprof":
        r = subprocess.run([go, "tool", "pprof", "-raw", out["pb.gz"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, universal_newlines=True)
        if r.returncode:
            print(r.stderr)
            print("go_reports: FAIL go tool pprof -raw exited %d" % r.returncode)
            sys.exit(1)
        raw = r.stdout.split("\n")
        locs, samples, section = {}, [], None
        for l in raw:
            if l.startswith(("Samples:", "Locations", "Mappings")):
                section = l.split()[0].rstrip(":")
                continue
            m = re.match(r"^ +(\d+): 0x([0-9a-f]+) M=\d+ (\S+) (\S+):(\d+)", l)
            if section == "Locations" and m:
                locs[m.group(1)] = (m.group(3), m.group(4), int(m.group(5)))
                continue
            m = re.match(r"^ +(\d+) +\d+: ([\d ]+)$", l)
            if section == "Samples" and m:
                samples.append({"n": int(m.group(1)), "locs": m.group(2).split(), "labels": {}})
            elif section == "Samples" and samples and "[" in l:
                samples[-1]["labels"] = dict(re.findall(r"(\w+):\[([^\]]*)\]", l))
        total = sum(s["n"] for s in samples)
        if total != len(bounds):
            failures.append("%d samples for %d boundaries" % (total, len(bounds)))
        one_frame = vdso_lines = 0
        for s in samples:
            lab, frames = s["labels"], [locs.get(i, ("?", "?", 0)) for i in s["locs"]]
            pc = int(lab.get("boundary", "0"), 16)
            if len(frames) == 1 and lab.get("verdict") not in ("truncated", "wrong"):
                failures.append("a one-frame sample at 0x%x that passed (%s)" % (pc, lab.get("verdict")))
            if pc in truncated:
                fn, f, line = frames[0]
                if len(frames) != 1 or fn != "runtime.nanotime1" or lab.get("verdict") != "truncated":
                    failures.append("truncated boundary 0x%x: sample %s %s" % (pc, [x[0] for x in frames], lab.get("verdict")))
                elif f != rel or not first <= line < last:
                    failures.append("truncated boundary 0x%x: its line %s:%d, not in %s:%d-%d" % (pc, f, line, rel, first, last - 1))
                else:
                    one_frame += s["n"]
            # (not every vDSO pc has a line: 386's compiler-made
            # __x86.get_pc_thunk.bx has none)
            if pc in in_vdso and lab.get("at", "runtime.").startswith(("runtime.", "0x")):
                failures.append("vDSO boundary 0x%x: at %s" % (pc, lab.get("at")))
            if pc in in_vdso and "source" in lab:
                vdso_lines += 1
        if not vdso_lines:
            failures.append("no vDSO boundary's sample has a source line")
        if one_frame != n_truncated:
            failures.append("%d one-frame [runtime.nanotime1] samples, %d truncated boundaries" % (one_frame, n_truncated))
        vdso_at = sorted({s["labels"].get("at", "").split("+")[0] for s in samples
                          if int(s["labels"].get("boundary", "0"), 16) in in_vdso})
        print("go_reports: %s pprof -raw: %d samples; %d one-frame [runtime.nanotime1] truncated at %s:%d-%d; "
              "%d vDSO boundaries (%d samples with a line), at %s" %
              (arch, total, one_frame, rel, first, last - 1, len(in_vdso), vdso_lines, ", ".join(vdso_at)))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
for f in failures[:20]:
    print("go_reports: FAIL " + f)
sys.exit(1 if failures else 0)
