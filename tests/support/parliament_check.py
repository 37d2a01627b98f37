"""Lint policy files with Parliament (PyPI `parliament`, pinned in .ci/run), an independent IAM
policy linter: one JSON line per file with every finding (issue, severity, detail)."""
import json, sys
from parliament import analyze_policy_string, enhance_finding
for path in sys.argv[1:]:
    p = analyze_policy_string(open(path).read(), filepath=path)
    out = []
    for f in p.findings:
        f = enhance_finding(f)
        out.append({"issue": f.issue, "severity": f.severity, "title": f.title, "detail": str(f.detail), "location": str(f.location)})
    print(json.dumps({"file": path, "findings": out}))
