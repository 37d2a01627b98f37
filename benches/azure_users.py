#!/usr/bin/env python3
"""Graph calls for a large tenant: run `portcullis collect --azure` against the local fake with a
generated tenant of N users (default 50,000) and print how many Graph requests it made, per
endpoint. The count must follow pages (999 users a page), not users.

Usage: .ci/tools/moto/bin/python benches/azure_users.py [--users N] [--binary target/release/portcullis]
(the moto venv has `cryptography`, which the fake needs for its TLS certificate).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50000)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/portcullis"))
    args = ap.parse_args()
    d = tempfile.mkdtemp()
    fake = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tests/support/azure_fake.py"), os.path.join(ROOT, "fixtures/azure/tenant.json"),
         "--dir", d, "--users", str(args.users)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    info = json.loads(fake.stdout.readline())
    env = {
        "PATH": "/usr/bin:/bin", "HOME": d,
        "AZURE_TENANT_ID": "3f2e1d0c-aaaa-4bbb-8ccc-000000000001", "AZURE_CLIENT_ID": "5c4b3a29-aaaa-4bbb-8ccc-000000000002",
        "AZURE_CLIENT_SECRET": "fake-secret-for-tests-only",
        "AZURE_AUTHORITY_HOST": "https://127.0.0.1:%d" % info["ports"]["login"],
        "PORTCULLIS_AZURE_ARM_ENDPOINT": "https://127.0.0.1:%d" % info["ports"]["arm"],
        "PORTCULLIS_AZURE_GRAPH_ENDPOINT": "https://127.0.0.1:%d" % info["ports"]["graph"],
        "SSL_CERT_FILE": info["ca"],
    }
    started = time.time()
    out = subprocess.run([args.binary, "collect", "--azure", "--quiet", "--out", os.path.join(d, "inv.json")], env=env, capture_output=True, text=True)
    took = time.time() - started
    fake.kill()
    if out.returncode != 0:
        sys.exit(out.stderr)
    calls = collections.Counter()
    with open(os.path.join(d, "requests.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r["server"] == "graph":
                calls[r["path"].split("?")[0]] += 1
    inv = json.load(open(os.path.join(d, "inv.json")))
    users = len(inv["azure"]["tenants"][0]["users"]["collected"])
    print("users collected: %d, in %.1f s" % (users, took))
    print("Graph requests: %d" % sum(calls.values()))
    for path, n in sorted(calls.items()):
        print("  %5d  %s" % (n, path))


if __name__ == "__main__":
    main()
