#!/usr/bin/env python3
"""Benchmark (not a test): live AWS collection against moto with 200 and 5,000 users.

For each size: start moto on 127.0.0.1, fill it (fixtures/moto/seed.py bulk: N users with two keys
each, a group, managed and inline policies, N/5 roles), then
  1. time the bulk reads moto itself needs (GetAccountAuthorizationDetails, all pages, and the
     credential report) with boto3: the floor any scanner pays;
  2. run `portcullis scan --aws` (release build) and record wall time, peak memory (ru_maxrss of
     the process) and the API calls moto's recorder saw, by service;
  3. optionally (--prowler) run Prowler's IAM checks on the same account and print the ratios.
     Prowler is installed into target/bench/prowler-venv at a pinned version on first use.

Usage: python3 benches/aws_live.py [--sizes 200,5000] [--prowler]
       PORTCULLIS_BIN=path/to/portcullis python3 benches/aws_live.py   (a given build, not target/release)
Needs the moto venv that .ci/run creates (.ci/tools/moto).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".ci/tools/moto/bin/python"
PROWLER_VERSION = "5.13.1"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_moto(rec):
    port = free_port()
    env = dict(os.environ, MOTO_ENABLE_RECORDING="True", MOTO_RECORDER_FILEPATH=str(rec), MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    p = subprocess.Popen([str(PY), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return p, url
        except Exception:
            time.sleep(0.1)
    p.kill()
    sys.exit("moto did not start")


def recorder(url, what):
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/recorder/{what}", method="POST", data=b""))


def calls(rec):
    by = {}
    for line in Path(rec).read_text().splitlines():
        if not line.strip():
            continue
        e = json.loads(line)
        auth = {k.lower(): v for k, v in e.get("headers", {}).items()}.get("authorization", "")
        svc = auth.split("Credential=")[1].split("/")[3] if "Credential=" in auth else "?"
        by[svc] = by.get(svc, 0) + 1
    return by


def phases(log):
    """Where portcullis's time goes, from its own `-v` log: each dataset read (they run
    concurrently within an account), the credential check, and the scan's phases."""
    out = {}
    for line in log.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv and not kv.startswith("http"))
        ms = fields.get("elapsed_ms")
        if ms is None:
            continue
        name = fields.get("dataset") or fields.get("phase") or ("credentials" if "credentials resolved" in line else "account" if "account collected" in line else None)
        if name:
            out[name.strip('"')] = int(ms)
    return out


def floor(url):
    """What moto needs to answer the bulk reads, measured with boto3 (no retries, one process)."""
    code = f"""
import boto3, time
iam = boto3.client('iam', endpoint_url='{url}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
t = time.time()
for _ in iam.get_paginator('get_account_authorization_details').paginate():
    pass
while iam.generate_credential_report()['State'] != 'COMPLETE':
    time.sleep(0.1)
iam.get_credential_report()
print(time.time() - t)
"""
    return float(subprocess.check_output([str(PY), "-c", code]).decode().strip())


def run(cmd, env):
    t = time.time()
    log = (ROOT / "target/bench/last-run.log").open("w+b")
    p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t
    log.seek(0)
    out = log.read().decode(errors="replace")
    return wall, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out


def aws_env(url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               AWS_ENDPOINT_URL=url, AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1",
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    return env


def prowler_bin():
    venv = ROOT / "target/bench/prowler-venv"
    exe = venv / "bin/prowler"
    if not exe.exists():
        print(f"installing prowler=={PROWLER_VERSION} into {venv} (once)", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
        subprocess.check_call([str(venv / "bin/pip"), "install", "-q", f"prowler=={PROWLER_VERSION}"])
    return exe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200,5000")
    ap.add_argument("--prowler", action="store_true", help=f"also run Prowler {PROWLER_VERSION} (pinned venv under target/bench)")
    a = ap.parse_args()
    if not PY.exists():
        sys.exit(f"{PY} missing: run .ci/run once (it installs moto)")
    if os.environ.get("PORTCULLIS_BIN"):
        exe = Path(os.environ["PORTCULLIS_BIN"])  # compare builds: a binary built elsewhere
    else:
        subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
        exe = ROOT / "target/release/portcullis"
    out_dir = ROOT / "target/bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in [int(x) for x in a.sizes.split(",")]:
        rec = out_dir / f"recording-{n}.jsonl"
        rec.write_text("")
        moto, url = start_moto(rec)
        try:
            t = time.time()
            subprocess.check_call([str(PY), str(ROOT / "fixtures/moto/seed.py"), "--endpoint", url, "bulk", "--users", str(n)], stdout=subprocess.DEVNULL)
            seeded = time.time() - t
            base = floor(url)
            recorder(url, "reset-recording")
            wall, rss, code, err = run([str(exe), "-v", "scan", "--aws", "--aws-regions", "us-east-1", "-q", "--json", str(out_dir / f"findings-{n}.json")], aws_env(url))
            if code != 0:
                print(err, file=sys.stderr)
                sys.exit(f"portcullis exited {code}")
            c = calls(rec)
            breakdown = phases(err)
            findings = len(json.loads((out_dir / f"findings-{n}.json").read_text())["findings"])
            row = dict(users=n, seed_s=round(seeded, 1), moto_bulk_reads_s=round(base, 2), portcullis_s=round(wall, 2),
                       ratio_to_moto=round(wall / base, 2), peak_mib=round(rss, 1), iam_calls=c.get("iam", 0),
                       all_calls=sum(c.values()), calls=c, findings=findings, breakdown_ms=breakdown)
            if a.prowler:
                recorder(url, "reset-recording")
                pw, prss, pcode, perr = run([str(prowler_bin()), "aws", "--service", "iam", "--region", "us-east-1", "--output-formats", "json-ocsf",
                                             "--output-directory", str(out_dir / f"prowler-{n}"), "--no-banner"], aws_env(url))
                pc = calls(rec)
                row.update(prowler_s=round(pw, 2), prowler_peak_mib=round(prss, 1), prowler_iam_calls=pc.get("iam", 0), prowler_exit=pcode)
                if pc.get("iam", 0) == 0:
                    # It never reached the emulator: a ratio would be meaningless. Say why.
                    why = [l.strip() for l in perr.splitlines() if "CRITICAL" in l or "Error" in l]
                    row["prowler_error"] = (why[-1] if why else perr.strip()[-300:])[:300]
                else:
                    row.update(speedup=round(pw / wall, 1), call_ratio=round(pc.get("iam", 0) / max(1, c.get("iam", 0)), 1))
            rows.append(row)
            print(json.dumps(row), flush=True)
        finally:
            moto.kill()
            moto.wait()
    print()
    print(f"{'users':>6} {'moto bulk s':>11} {'portcullis s':>12} {'ratio':>6} {'peak MiB':>9} {'IAM calls':>9} {'all calls':>9}")
    for r in rows:
        print(f"{r['users']:>6} {r['moto_bulk_reads_s']:>11} {r['portcullis_s']:>12} {r['ratio_to_moto']:>6} {r['peak_mib']:>9} {r['iam_calls']:>9} {r['all_calls']:>9}")
        print("        breakdown (ms): " + ", ".join(f"{k} {v}" for k, v in sorted(r["breakdown_ms"].items(), key=lambda kv: -kv[1])))
        if "prowler_error" in r:
            print(f"        prowler {PROWLER_VERSION} did not reach the emulator (exit {r['prowler_exit']}): {r['prowler_error']}")
        elif "prowler_s" in r:
            print(f"        prowler: {r['prowler_s']} s, {r['prowler_peak_mib']} MiB, {r['prowler_iam_calls']} IAM calls "
                  f"(exit {r['prowler_exit']}); portcullis is {r['speedup']}x faster and makes {r['call_ratio']}x fewer IAM calls")
    if len({r["iam_calls"] for r in rows}) > 1:
        sys.exit("IAM calls grew with the number of users")


if __name__ == "__main__":
    main()
