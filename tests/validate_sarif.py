#!/usr/bin/python3
"""validate_sarif.py SCHEMA SARIF SOURCE_DIR [SCHEMA...] [BASE=DIR...]

Holds a SARIF log to what GitHub code scanning needs of it: valid against
each JSON schema given (Debian's python3-jsonschema, draft 4 as SARIF's
own), every ruleIndex naming its ruleId, and every physical location a
file of the source tree with that line in it -- a location relative to
another uriBaseId (sigstep go's GOROOT_SRC) a file under the DIR given
for it, and every uriBaseId used one the log declares.  Then prints what a reader
would see: results per rule and level, and the .S lines annotated most.
Exit 0 valid, 1 not, 77 (skipped) without python3-jsonschema.
"""
import collections
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("validate_sarif: SKIP: python3-jsonschema is not installed (ci/bootstrap.sh installs it)")
    sys.exit(77)

extra = sys.argv[4:]
schemas = [sys.argv[1]] + [a for a in extra if "=" not in a]
log_path, src = sys.argv[2], sys.argv[3]
bases = {"SRCROOT": src}
bases.update(a.split("=", 1) for a in extra if "=" in a)
log = json.load(open(log_path))
bad = 0
for path in schemas:
    schema = json.load(open(path))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
    for e in errors[:5]:
        print("validate_sarif: %s: %s at %s" % (path, e.message[:200], "/".join(map(str, e.path))))
    bad += len(errors)
    print("validate_sarif: %s against %s: %d errors" % (log_path, os.path.basename(path), len(errors)))

run = log["runs"][0]
rules = run["tool"]["driver"]["rules"]
lines_of = {}
per_rule = collections.Counter()
per_line = collections.Counter()
for r in run["results"]:
    if rules[r["ruleIndex"]]["id"] != r["ruleId"]:
        print("validate_sarif: ruleIndex %d is %s, not %s" % (r["ruleIndex"], rules[r["ruleIndex"]]["id"], r["ruleId"]))
        bad += 1
    per_rule[(r["ruleId"], r["level"])] += 1
    for loc in r["locations"]:
        phys = loc.get("physicalLocation")
        if not phys:
            continue
        uri, line = phys["artifactLocation"]["uri"], phys["region"]["startLine"]
        base = phys["artifactLocation"].get("uriBaseId")
        if base and (base not in run.get("originalUriBaseIds", {}) or base not in bases):
            print("validate_sarif: %s: uriBaseId %s not declared or not given" % (uri, base))
            bad += 1
            continue
        path = uri if uri.startswith("/") else os.path.join(bases.get(base, src), uri)
        if path not in lines_of:
            try:
                lines_of[path] = sum(1 for _ in open(path))
            except OSError:
                lines_of[path] = -1
        if not 1 <= line <= lines_of[path]:
            print("validate_sarif: %s:%d: no such line in the source tree" % (uri, line))
            bad += 1
        per_line["%s:%d" % (uri, line)] += 1

print("validate_sarif: %d results, %d rules" % (len(run["results"]), len(rules)))
for (rule, level), n in sorted(per_rule.items()):
    print("  %-18s %-6s %5d" % (rule, level, n))
print("  most annotated lines: " + ", ".join("%s (%d)" % kv for kv in per_line.most_common(4)))
sys.exit(1 if bad else 0)
