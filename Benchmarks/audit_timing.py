#!/usr/bin/env python3
"""Times `rolewatch audit` on a generated IAM export (Benchmarks/iam_export.py) on one core, and
checks the bar: a 5,000-role export audited in under 2 seconds. Prints a Markdown table; exits 1
when the bar is not met or the findings differ between runs.

Run it through run.sh (`Benchmarks/run.sh --audit [ROLES]`), which builds RoleWatch in release mode."""
import argparse
import datetime
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROLEWATCH = os.path.join(ROOT, ".build", "release", "rolewatch")
CONFIG = os.path.join(ROOT, "Samples", "iam", "rolewatch.yaml")
BAR_SECONDS = 2.0


def export(roles):
    path = os.path.join(HERE, ".archives", f"iam-{roles}.json")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print(f"generating an export of {roles} roles in {path}", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(HERE, "iam_export.py"), str(roles), path], check=True)
    return path


def run_once(path, output, core):
    """Wall time, CPU time (user + system) and peak RSS (KiB) of one audit pinned to `core`."""
    command = [ROLEWATCH, "audit", path, "--config", CONFIG, "--now", "2025-11-20", "--output", output]
    start = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, preexec_fn=lambda: os.sched_setaffinity(0, {core}))
    stderr = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"rolewatch audit failed ({code}): {stderr}")
    with open(output, "rb") as findings:
        digest = hashlib.sha256(findings.read()).hexdigest()
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, digest, stderr.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--roles", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--command", default="Benchmarks/run.sh --audit")
    args = parser.parse_args()
    path = export(args.roles)
    scratch = os.path.join(HERE, ".scratch")
    os.makedirs(scratch, exist_ok=True)
    core = min(os.sched_getaffinity(0))
    runs = [run_once(path, os.path.join(scratch, "findings.ndjson"), core) for _ in range(args.runs)]
    wall = statistics.median(run[0] for run in runs)
    cpu = statistics.median(run[1] for run in runs)
    rss = max(run[2] for run in runs) / 1024
    identical = len({run[3] for run in runs}) == 1
    size = os.path.getsize(path) / 1e6
    print(f"Export: {args.roles:,} roles, {size:.1f} MB of JSON ({os.path.relpath(path, ROOT)}). "
          f"Machine: {os.cpu_count()} cores, Linux {platform.release()}. Date: {datetime.date.today()}. "
          f"Medians of {args.runs} runs, pinned to one core.")
    print()
    print("| roles | MB JSON | time (s) | CPU (s) | roles/s | peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.roles:,} | {size:.1f} | {wall:.2f} | {cpu:.2f} | {args.roles / wall:,.0f} | {rss:.0f} |")
    print()
    print(f"Summary: `{runs[0][4].removeprefix('rolewatch: ')}`")
    print()
    met = wall < BAR_SECONDS
    print(f"- {'met' if met else 'NOT MET'}: {args.roles:,} roles audited in under {BAR_SECONDS:.0f} s on one core: {wall:.2f} s")
    print(f"- {'met' if identical else 'NOT MET'}: findings byte-identical in every run")
    print()
    print(f"Reproduce with `{args.command}`.")
    sys.exit(0 if met and identical else 1)


if __name__ == "__main__":
    main()
