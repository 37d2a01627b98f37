#!/usr/bin/env python3
"""Benchmark (not a test): live AWS collection against moto with 200 and 5,000 users.

For each size: start moto on 127.0.0.1, fill it (fixtures/moto/seed.py bulk: N users with two keys
each, a group, managed and inline policies, N/5 roles), then
  1. time the bulk reads moto itself needs (GetAccountAuthorizationDetails, all pages, and the
     credential report) with boto3: the floor any scanner pays;
  2. run `portcullis scan --aws` (release build) and record wall time, peak memory (ru_maxrss of
     the process) and the API calls moto's recorder saw, by service. What moto lacks (Access
     Analyzer, EC2 GetInstanceMetadataDefaults) is served by a front on 127.0.0.1 in the documented
     shapes, so the SDK's retries stay on and the figures measure the scan, not retries of HTTP 500;
  3. optionally (--prowler, --scoutsuite) run Prowler's and ScoutSuite's IAM checks on the same
     account, and Portcullis's own IAM checks (`--service iam`) beside them, and print the ratios.
     Each is installed into target/bench/<tool>-venv at a pinned version on first use; both pass
     explicit endpoints to some boto3 clients, so benches/site/sitecustomize.py (on their
     PYTHONPATH) points every client at the emulator.

Usage: python3 benches/aws_live.py [--sizes 200,5000] [--prowler] [--scoutsuite]
       PORTCULLIS_BIN=path/to/portcullis python3 benches/aws_live.py   (a given build, not target/release)
Needs the moto venv that .ci/run creates (.ci/tools/moto).
"""
import argparse
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".ci/tools/moto/bin/python"
PROWLER_VERSION = "5.13.1"
SCOUTSUITE_VERSION = "5.14.0"


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


class Front:
    """What moto lacks, served in the documented shapes on 127.0.0.1 (as tests/aws_live.rs does):
    Access Analyzer (one active external-access analyzer per region, no findings) and EC2
    GetInstanceMetadataDefaults (no account-level defaults). Every other EC2 call is forwarded to
    moto. Only the EC2 and Access Analyzer endpoints point here, so IAM and the rest go to moto
    directly. `served` counts the calls answered here (moto's recorder does not see them)."""

    def __init__(self, moto_url):
        self.moto_url = moto_url
        self.served = 0
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, ctype, body):
                body = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000001")
                self.end_headers()
                self.wfile.write(body)

            def handle_one(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                scope = auth.split("Credential=")[1].split(",")[0].split("/") if "Credential=" in auth else []
                service, region, account = (scope[3], scope[2], "123456789012") if len(scope) > 3 else ("?", "us-east-1", "123456789012")
                if service == "access-analyzer":
                    front.served += 1
                    path = self.path.split("?")[0]
                    if self.command == "GET" and path == "/analyzer":
                        arn = f"arn:aws:access-analyzer:{region}:{account}:analyzer/external"
                        return self.reply(200, "application/json", json.dumps({"analyzers": [
                            {"arn": arn, "name": "external", "type": "ACCOUNT", "createdAt": "2026-01-10T12:00:00Z", "status": "ACTIVE"}]}))
                    if self.command == "POST" and path == "/finding":
                        return self.reply(200, "application/json", json.dumps({"findings": []}))
                    return self.reply(404, "application/json", json.dumps({"message": "no such route"}))
                if service == "ec2" and b"Action=GetInstanceMetadataDefaults" in body:
                    front.served += 1
                    return self.reply(200, "text/xml", '<GetInstanceMetadataDefaultsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
                                      "<requestId>r-1</requestId><accountLevel/></GetInstanceMetadataDefaultsResponse>")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
                req = urllib.request.Request(front.moto_url + self.path, data=body if body else None, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=300) as r:
                        status, ctype, out = r.status, r.headers.get("Content-Type", "text/xml"), r.read()
                except urllib.error.HTTPError as e:
                    status, ctype, out = e.code, e.headers.get("Content-Type", "text/xml"), e.read()
                return self.reply(status, ctype, out.decode(errors="replace"))

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def aws_env(url, front=None):
    """The environment for a run against moto. With a Front, the EC2 and Access Analyzer endpoints
    point at it and the SDK's retries stay on; without one, one attempt per call, so that moto's
    HTTP 500 for what it lacks costs no backoff."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               AWS_ENDPOINT_URL=url, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    if front:
        env.update(AWS_ENDPOINT_URL_EC2=front.url, AWS_ENDPOINT_URL_ACCESSANALYZER=front.url)
    else:
        env.update(AWS_MAX_ATTEMPTS="1")
    return env


def tool_bin(name, package, version, exe_name):
    venv = ROOT / f"target/bench/{name}-venv"
    exe = venv / "bin" / exe_name
    if not exe.exists():
        print(f"installing {package}=={version} into {venv} (once)", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
        subprocess.check_call([str(venv / "bin/pip"), "install", "-q", f"{package}=={version}"])
    return exe


def python_tool_env(url):
    """A Python scanner's environment: the emulator's keys, and every botocore client at it."""
    env = aws_env(url)
    env.update(BENCH_AWS_ENDPOINT=url, PYTHONPATH=str(ROOT / "benches/site"))
    return env


def compare(name, cmd, url, rec, ours_wall, ours_iam_calls):
    recorder(url, "reset-recording")
    wall, rss, code, err = run(cmd, python_tool_env(url))
    c = calls(rec)
    row = {f"{name}_s": round(wall, 2), f"{name}_peak_mib": round(rss, 1), f"{name}_iam_calls": c.get("iam", 0),
           f"{name}_all_calls": sum(c.values()), f"{name}_exit": code}
    if c.get("iam", 0) == 0:
        why = [l.strip() for l in err.splitlines() if "CRITICAL" in l or "Error" in l]
        row[f"{name}_error"] = (why[-1] if why else err.strip()[-300:])[:300]
    else:
        row[f"{name}_speedup"] = round(wall / ours_wall, 1)
        row[f"{name}_call_ratio"] = round(c.get("iam", 0) / max(1, ours_iam_calls), 1)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200,5000")
    ap.add_argument("--prowler", action="store_true", help=f"also run Prowler {PROWLER_VERSION} (pinned venv under target/bench)")
    ap.add_argument("--scoutsuite", action="store_true", help=f"also run ScoutSuite {SCOUTSUITE_VERSION} (pinned venv under target/bench)")
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
        front = Front(url)
        try:
            t = time.time()
            subprocess.check_call([str(PY), str(ROOT / "fixtures/moto/seed.py"), "--endpoint", url, "bulk", "--users", str(n)], stdout=subprocess.DEVNULL)
            seeded = time.time() - t
            base = floor(url)
            recorder(url, "reset-recording")
            wall, rss, code, err = run([str(exe), "-v", "scan", "--aws", "--aws-regions", "us-east-1", "-q", "--json", str(out_dir / f"findings-{n}.json")], aws_env(url, front))
            if code != 0:
                print(err, file=sys.stderr)
                sys.exit(f"portcullis exited {code}")
            c = calls(rec)
            c["served by the harness (access-analyzer, ec2 defaults)"] = front.served
            breakdown = phases(err)
            findings = len(json.loads((out_dir / f"findings-{n}.json").read_text())["findings"])
            row = dict(users=n, seed_s=round(seeded, 1), moto_bulk_reads_s=round(base, 2), portcullis_s=round(wall, 2),
                       ratio_to_moto=round(wall / base, 2), peak_mib=round(rss, 1), iam_calls=c.get("iam", 0),
                       all_calls=sum(c.values()), calls=c, findings=findings, breakdown_ms=breakdown)
            if a.prowler or a.scoutsuite:
                # Like for like: Portcullis's IAM checks alone, as the others run theirs.
                recorder(url, "reset-recording")
                iw, irss, icode, ierr = run([str(exe), "scan", "--aws", "--aws-regions", "us-east-1", "--service", "iam", "-q",
                                             "--json", str(out_dir / f"findings-iam-{n}.json")], aws_env(url))
                ic = calls(rec)
                row.update(iam_only_s=round(iw, 2), iam_only_peak_mib=round(irss, 1), iam_only_calls=sum(ic.values()), iam_only_iam_calls=ic.get("iam", 0))
            if a.prowler:
                exe_p = tool_bin("prowler", "prowler", PROWLER_VERSION, "prowler")
                row.update(compare("prowler", [str(exe_p), "aws", "--service", "iam", "--region", "us-east-1", "--output-formats", "json-ocsf",
                                               "--output-directory", str(out_dir / f"prowler-{n}"), "--no-banner"], url, rec, row["iam_only_s"], row["iam_only_iam_calls"]))
            if a.scoutsuite:
                exe_s = tool_bin("scoutsuite", "scoutsuite", SCOUTSUITE_VERSION, "scout")
                row.update(compare("scoutsuite", [str(exe_s), "aws", "--services", "iam", "--regions", "us-east-1", "--no-browser", "--force",
                                                  "--report-dir", str(out_dir / f"scoutsuite-{n}")], url, rec, row["iam_only_s"], row["iam_only_iam_calls"]))
            rows.append(row)
            print(json.dumps(row), flush=True)
        finally:
            front.close()
            moto.kill()
            moto.wait()
    print()
    print(f"{'users':>6} {'moto bulk s':>11} {'portcullis s':>12} {'ratio':>6} {'peak MiB':>9} {'IAM calls':>9} {'all calls':>9}")
    for r in rows:
        print(f"{r['users']:>6} {r['moto_bulk_reads_s']:>11} {r['portcullis_s']:>12} {r['ratio_to_moto']:>6} {r['peak_mib']:>9} {r['iam_calls']:>9} {r['all_calls']:>9}")
        print("        breakdown (ms): " + ", ".join(f"{k} {v}" for k, v in sorted(r["breakdown_ms"].items(), key=lambda kv: -kv[1])))
        if "iam_only_s" in r:
            print(f"        portcullis, IAM checks only: {r['iam_only_s']} s, {r['iam_only_peak_mib']} MiB, {r['iam_only_iam_calls']} IAM calls")
        for tool, version in (("prowler", PROWLER_VERSION), ("scoutsuite", SCOUTSUITE_VERSION)):
            if f"{tool}_error" in r:
                print(f"        {tool} {version} did not reach the emulator (exit {r[tool + '_exit']}): {r[tool + '_error']}")
            elif f"{tool}_s" in r:
                print(f"        {tool} {version}: {r[tool + '_s']} s, {r[tool + '_peak_mib']} MiB, {r[tool + '_iam_calls']} IAM calls "
                      f"(exit {r[tool + '_exit']}); portcullis is {r[tool + '_speedup']}x faster and makes {r[tool + '_call_ratio']}x fewer IAM calls")
    if len({r["iam_calls"] for r in rows}) > 1:
        sys.exit("IAM calls grew with the number of users")


if __name__ == "__main__":
    main()
