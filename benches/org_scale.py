#!/usr/bin/env python3
"""Benchmark (not a test): a moto organization of N accounts (default 200), collected live with
`portcullis collect --aws --aws-org` at several --concurrency values.

For each run: wall time, the CPU time Portcullis used, and the CPU time moto used meanwhile (from
/proc). moto serves requests one at a time under Python's GIL, so when its CPU time is close to the
wall time, the emulator is the bound, not the scanner. What moto lacks (Access Analyzer, EC2
GetInstanceMetadataDefaults) is served by aws_live.Front, which forwards the other EC2 calls to moto.

Usage: python3 benches/org_scale.py [--accounts 200] [--concurrency 1,4,16]
       PORTCULLIS_BIN=path/to/portcullis python3 benches/org_scale.py
Needs the moto venv that .ci/run creates (.ci/tools/moto).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aws_live import PY, ROOT, Front, aws_env, calls, recorder, start_moto  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--concurrency", default="1,4,16")
    a = ap.parse_args()
    if os.environ.get("PORTCULLIS_BIN"):
        exe = Path(os.environ["PORTCULLIS_BIN"])
    else:
        subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
        exe = ROOT / "target/release/portcullis"
    out_dir = ROOT / "target/bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    rec = out_dir / "recording-org.jsonl"
    rec.write_text("")
    moto, url = start_moto(rec)
    try:
        t = time.time()
        subprocess.check_call([str(PY), str(ROOT / "fixtures/moto/seed.py"), "--endpoint", url, "wide", "--accounts", str(a.accounts)], stdout=subprocess.DEVNULL)
        print(json.dumps({"accounts": a.accounts, "seed_s": round(time.time() - t, 1)}), flush=True)
        # What moto lacks (Access Analyzer, EC2 GetInstanceMetadataDefaults) is served by a front,
        # as in aws_live.py, so the SDK's retries stay on and no call answers HTTP 500.
        front = Front(url)
        env = aws_env(url, front)
        rows = []
        for c in [int(x) for x in a.concurrency.split(",")]:
            recorder(url, "reset-recording")
            out = out_dir / f"org-{a.accounts}-c{c}.json"
            moto_cpu = cpu_seconds(moto.pid)
            served = front.served
            t = time.time()
            p = subprocess.Popen([str(exe), "collect", "--aws", "--aws-org", "--aws-regions", "us-east-1", "--concurrency", str(c), "-q", "--out", str(out)],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.time() - t
            moto_cpu = cpu_seconds(moto.pid) - moto_cpu
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"collect exited {os.waitstatus_to_exitcode(status)}: {p.stderr.read().decode()[-2000:]}")
            inv = json.loads(out.read_text())
            row = dict(concurrency=c, wall_s=round(wall, 1), portcullis_cpu_s=round(ru.ru_utime + ru.ru_stime, 2), moto_cpu_s=round(moto_cpu, 1),
                       moto_busy=round(moto_cpu / wall, 2), accounts=len(inv["aws"]["accounts"]), calls=sum(calls(rec).values()) + front.served - served, peak_mib=round(ru.ru_maxrss / 1024, 1))
            rows.append(row)
            print(json.dumps(row), flush=True)
        print()
        print(f"{'concurrency':>11} {'wall s':>7} {'portcullis CPU s':>16} {'moto CPU s':>10} {'moto busy':>9} {'accounts':>8} {'calls':>6} {'peak MiB':>8}")
        for r in rows:
            print(f"{r['concurrency']:>11} {r['wall_s']:>7} {r['portcullis_cpu_s']:>16} {r['moto_cpu_s']:>10} {r['moto_busy']:>9} {r['accounts']:>8} {r['calls']:>6} {r['peak_mib']:>8}")
    finally:
        moto.kill()
        moto.wait()


if __name__ == "__main__":
    main()
