#!/usr/bin/env python3
"""IAM-policy reads for a large organization: scan the policy checks of a generated organization of
N projects (default 1,000) through the local GCP fake twice, once with the Cloud Asset bulk read and
once with the API disabled (per-resource getIamPolicy), and print each path's request count and
wall time. With the bulk read, requests follow pages; without it, projects.

Usage: .ci/tools/moto/bin/python benches/gcp_projects.py [--projects N] [--binary target/release/portcullis]
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKS = "gcp_iam_no_public_access,gcp_iam_members_in_allowed_domains,gcp_iam_service_account_not_privileged"


def run(binary, projects, disabled):
    d = tempfile.mkdtemp()
    flags = ["--projects", str(projects), "--page", "500"] + (["--asset-disabled"] if disabled else [])
    fake = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/support/gcp_fake.py"), os.path.join(ROOT, "fixtures/gcp/org.json"), "--dir", d] + flags,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    info = json.loads(fake.stdout.readline())
    env = {"PATH": "/usr/bin:/bin", "HOME": d, "GOOGLE_APPLICATION_CREDENTIALS": info["key_file"],
           "PORTCULLIS_GCP_ENDPOINT": "https://127.0.0.1:%d" % info["port"], "SSL_CERT_FILE": info["ca"]}
    started = time.time()
    out = subprocess.run([binary, "scan", "--gcp", "--gcp-organization", "111111111111", "--checks", CHECKS, "--quiet", "--json", os.path.join(d, "f.json")],
                         env=env, capture_output=True, text=True)
    took = time.time() - started
    fake.kill()
    if out.returncode not in (0, 1):
        sys.exit(out.stderr)
    kinds = collections.Counter()
    with open(os.path.join(d, "requests.jsonl")) as f:
        for line in f:
            path = json.loads(line)["path"].split("?")[0]
            kind = path.rsplit(":", 1)[1] if ":" in path.rsplit("/", 1)[-1] else path.rsplit("/", 1)[-1] if path.count("/") <= 2 else path.split("/")[2]
            kinds[kind] += 1
    findings = len(json.load(open(os.path.join(d, "f.json")))["findings"])
    return sum(kinds.values()), took, kinds, findings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--projects", type=int, default=1000)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/portcullis"))
    args = ap.parse_args()
    for label, disabled in (("Cloud Asset bulk read", False), ("per-resource getIamPolicy (API disabled)", True)):
        n, took, kinds, findings = run(args.binary, args.projects, disabled)
        print("%s: %d requests, %.1f s, %d findings" % (label, n, took, findings))
        for k, v in sorted(kinds.items()):
            print("  %6d  %s" % (v, k))


if __name__ == "__main__":
    main()
