#!/usr/bin/env python3
"""Times RoleWatch against the floor (zcat) and the tools a user would otherwise reach for, in
one run on one generated archive, and prints every figure as a ratio to zcat measured in the
same run (machines here are noisy; ratios taken side by side are not).

Run it through run.sh, which builds RoleWatch and makes the archive; see README.md."""
import argparse
import datetime
import os
import platform
import re
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROLEWATCH = os.path.join(ROOT, ".build", "release", "rolewatch")
CONFIG = os.path.join(ROOT, "Samples", "rolewatch.yaml")


def trail_files_command(archive):
    return (f"find {shlex.quote(archive)}/AWSLogs -path '*CloudTrail-Digest*' -prune -o -name '*.json.gz' -print0")


def tools(archive, scratch):
    scan = f"{ROLEWATCH} scan {shlex.quote(archive)}/AWSLogs --config {CONFIG} --no-progress"
    return {
        "zcat": f"{trail_files_command(archive)} | xargs -0 zcat > /dev/null",
        "rolewatch --threads 1": f"{scan} --threads 1 > {scratch}/alerts-1.ndjson 2> {scratch}/summary-1.txt",
        "rolewatch (all cores)": f"{scan} --timings > {scratch}/alerts-n.ndjson 2> {scratch}/summary-n.txt",
        "rolewatch --no-prefilter": f"{scan} --no-prefilter > {scratch}/alerts-p.ndjson 2> /dev/null",
        # No site config: every session of every role followed, as a new user runs it.
        "rolewatch (no config)": f"{ROLEWATCH} scan {shlex.quote(archive)}/AWSLogs --no-progress "
        f"> {scratch}/alerts-0.ndjson 2> /dev/null",
        # The same with state: every session followed is also saved, the most a state has to write.
        "rolewatch (no config) scan --state": f"rm -f {scratch}/state-0.sqlite* && {ROLEWATCH} scan "
        f"{shlex.quote(archive)}/AWSLogs --no-progress --state {scratch}/state-0.sqlite --output /dev/null 2> /dev/null",
        # A first run with state (a fresh state each time): what a daily `scan --state` job costs.
        "rolewatch scan --state": f"rm -f {scratch}/state.sqlite* {scratch}/alerts-s.ndjson && "
        f"{scan} --state {scratch}/state.sqlite --output {scratch}/alerts-s.ndjson 2> /dev/null",
        "python gzip+json": f"python3 {HERE}/assume_role_grouping.py {shlex.quote(archive)} > /dev/null",
        "jq": f"{trail_files_command(archive)} | xargs -0 zcat | jq -rn -f {HERE}/assume_role_grouping.jq > /dev/null",
        "duckdb": f"python3 {HERE}/duckdb_grouping.py {shlex.quote(archive)} > /dev/null",
    }


def run_once(command):
    """Wall time and peak RSS (KiB, of the largest process in the pipeline) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(["/bin/sh", "-c", command])
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed ({os.waitstatus_to_exitcode(status)}): {command}")
    return elapsed, usage.ru_maxrss


def measure_interleaved(commands, runs, label=""):
    """Each command's median time and peak RSS, the runs taken in turns (zcat, then each tool,
    then zcat again...) rather than each tool's runs in a block: this machine's speed drifts over
    minutes, and a ratio is fair only if both sides saw the same drift. `runs`: name -> count."""
    results = {name: [] for name in commands}
    for round_ in range(max(runs.values())):
        for name, command in commands.items():
            if round_ < runs[name]:
                print(f"timing {name}{label} (run {round_ + 1} of {runs[name]})...", file=sys.stderr)
                results[name].append(run_once(command))
    return {name: (statistics.median(r[0] for r in rs), max(r[1] for r in rs)) for name, rs in results.items()}


def archive_size(scratch):
    """Files, uncompressed and compressed bytes and records, from RoleWatch's own summary."""
    text = open(f"{scratch}/summary-1.txt").read()
    match = re.search(r"scanned (\d+) files \(([\d.]+) MB, ([\d.]+) MB on disk\) in [\d.]+ s: (\d+) records", text)
    if not match:
        sys.exit(f"cannot read RoleWatch's summary: {text}")
    return int(match[1]), float(match[2]), float(match[3]), int(match[4])


def watched_events(scratch):
    """Events on watched roles, from RoleWatch's own summary."""
    match = re.search(r"(\d+) on watched roles", open(f"{scratch}/summary-1.txt").read())
    if not match:
        sys.exit("cannot read the events on watched roles from RoleWatch's summary")
    return int(match[1])


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} {platform.release()}"


def report(lines, checks, command):
    """Prints the table and each bar as met or NOT MET; the exit status says whether all were met."""
    lines = lines + [""] + [f"- {'met' if ok else 'NOT MET'}: {text}" for text, ok in checks]
    if command:
        lines += ["", f"Reproduce with `{command}`."]
    print("\n".join(lines))
    return 0 if all(ok for _, ok in checks) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("archives", nargs="+", help="folder(s) holding AWSLogs/ (from rolewatch generate)")
    parser.add_argument("--scaling", action="store_true",
                        help="compare zcat and RoleWatch across archives of growing size (memory, throughput)")
    parser.add_argument("--shapes", action="store_true",
                        help="one row per archive shape: zcat, RoleWatch on one and all cores, scan --state")
    parser.add_argument("--sessions", action="store_true",
                        help="the same shape with more and more sessions: time must grow linearly")
    parser.add_argument("--flood", action="store_true",
                        help="no config, batch against scan --state, on a flood of sessions (session_flood.py)")
    parser.add_argument("--hunt", action="store_true",
                        help="rolewatch hunt (two passes over every record, all cores) against zcat")
    parser.add_argument("--runs", type=int, default=5, help="runs of each fast tool (median taken)")
    parser.add_argument("--slow-runs", type=int, default=3, help="runs of python, jq and duckdb")
    parser.add_argument("--only", default="", help="comma-separated tool names to run (default: all)")
    parser.add_argument("--command", default="", help="the command line to print with the table")
    args = parser.parse_args()

    scratch = os.path.join(HERE, ".scratch")
    os.makedirs(scratch, exist_ok=True)
    if args.scaling:
        return scaling(args, scratch)
    if args.hunt:
        return hunt(args, scratch)
    if args.flood:
        return flood(args, scratch)
    if args.shapes or args.sessions:
        return shapes(args, scratch)
    chosen = tools(args.archives[0], scratch)
    wanted = [name for name in chosen if not args.only or name in args.only.split(",") or name == "zcat"
              or name == "rolewatch --threads 1"]
    figures = measure_interleaved(
        {name: chosen[name] for name in wanted},
        {name: args.slow_runs if name in ("python gzip+json", "jq", "duckdb") else args.runs for name in wanted})

    files, megabytes, compressed, records = archive_size(scratch)
    floor = figures["zcat"][0]
    lines = [
        f"Archive: {files} files, {megabytes:.0f} MB of JSON, {compressed:.0f} MB gzipped "
        f"({megabytes / compressed:.1f}x), {records:,} records. Machine: {machine()}. "
        f"Date: {datetime.date.today().isoformat()}. Medians of {args.runs} runs ({args.slow_runs} for python, jq, duckdb), "
        "taken in turns.",
        "",
        "| tool | time (s) | MB/s gzipped | MB/s JSON | events/s | peak RSS (MB) | throughput vs zcat |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (seconds, rss) in figures.items():
        lines.append(
            f"| {name} | {seconds:.2f} | {compressed / seconds:.0f} | {megabytes / seconds:.0f} | "
            f"{records / seconds:,.0f} | {rss / 1024:.0f} | {floor / seconds:.2f}x |")

    checks = []
    one = figures["rolewatch --threads 1"][0]
    checks.append((f"single-threaded scan at least 0.8x zcat: {floor / one:.2f}x", floor / one >= 0.8))
    if "rolewatch (all cores)" in figures:
        many = figures["rolewatch (all cores)"][0]
        checks.append((f"all cores at least 1.6x zcat: {floor / many:.2f}x", floor / many >= 1.6))
        same = open(f"{scratch}/alerts-1.ndjson", "rb").read() == open(f"{scratch}/alerts-n.ndjson", "rb").read()
        checks.append(("alerts byte-identical with --threads 1 and all cores", same))
    if "rolewatch (no config)" in figures:
        bare = figures["rolewatch (no config)"][0]
        alerts = sum(1 for _ in open(f"{scratch}/alerts-0.ndjson"))
        checks.append((f"no config: all cores at least 1.6x zcat: {floor / bare:.2f}x ({alerts} alerts)",
                       floor / bare >= 1.6))
        if "rolewatch (no config) scan --state" in figures:
            checks += state_checks("no config", figures["rolewatch (no config) scan --state"],
                                   figures["rolewatch (no config)"])
    if "rolewatch --no-prefilter" in figures:
        same = open(f"{scratch}/alerts-1.ndjson", "rb").read() == open(f"{scratch}/alerts-p.ndjson", "rb").read()
        checks.append(("alerts byte-identical with the prefilter on and off", same))
    if "rolewatch scan --state" in figures:
        checks.append(("scan --state: the final forms in the state byte-identical to the batch scan's alerts",
                       final_forms(f"{scratch}/state.sqlite") == sorted(open(f"{scratch}/alerts-1.ndjson").read().splitlines())))
        state_mb = sum(os.path.getsize(p) for p in (f"{scratch}/state.sqlite", f"{scratch}/state.sqlite-wal")
                       if os.path.exists(p)) / 1e6
        lines.append("")
        batch = figures.get("rolewatch (all cores)", figures["rolewatch --threads 1"])[0]
        lines.append(f"State after `scan --state`: {state_mb:.1f} MB (database and WAL); its run (all cores) took "
                     f"{figures['rolewatch scan --state'][0] / batch:.2f}x the time of the batch scan on all cores.")
    best = min(figures[n][0] for n in figures
               if n.startswith("rolewatch")
               and n not in ("rolewatch --no-prefilter", "rolewatch scan --state", "rolewatch (no config)",
                             "rolewatch (no config) scan --state"))
    for name, bar in (("python gzip+json", 3), ("duckdb", 10)):
        if name in figures:
            ratio = figures[name][0] / best
            checks.append((f"at least {bar}x faster than {name}: {ratio:.1f}x", ratio >= bar))
    peak = max(figures[n][1] for n in figures if n.startswith("rolewatch")) / 1024
    checks.append((f"peak RSS of rolewatch under 150 MB: {peak:.0f} MB", peak < 150))
    return report(lines, checks, args.command)


# What the hunt benchmark looks for: every session of the vendor's outbound role and all it issued
# (a few hundred sessions a day, a few percent of the records): the second pass decodes them all.
HUNT_PRINCIPAL = "arn:aws:iam::111122223333:role/IntegrationOutbound"


def hunt(args, scratch):
    """zcat and `rolewatch hunt --principal` on all cores, in one run: throughput as a ratio to
    zcat, and peak RSS. Bars: at least 1.0x zcat, under 150 MB."""
    archive = args.archives[0]
    command = (f"{ROLEWATCH} hunt {shlex.quote(archive)}/AWSLogs --principal '{HUNT_PRINCIPAL}' "
               f"> {scratch}/hunt.ndjson 2> {scratch}/summary-hunt.txt")
    commands = {"zcat": tools(archive, scratch)["zcat"], "rolewatch hunt (all cores)": command}
    figures = measure_interleaved(commands, {name: args.runs for name in commands})
    text = open(f"{scratch}/summary-hunt.txt").read()
    match = re.search(r"hunted (\d+) files \(([\d.]+) MB, ([\d.]+) MB on disk\) in [\d.]+ s: (\d+) records, "
                      r"(\d+) matching sessions, (\d+) sessions", text)
    if not match:
        sys.exit(f"cannot read the hunt's summary: {text}")
    files, megabytes, compressed, records = int(match[1]), float(match[2]), float(match[3]), int(match[4])
    floor = figures["zcat"][0]
    lines = [
        f"Archive: {files} files, {megabytes:.0f} MB of JSON, {compressed:.0f} MB gzipped, {records:,} records. "
        f"Machine: {machine()}. Date: {datetime.date.today().isoformat()}. Medians of {args.runs} runs, taken in turns.",
        "",
        f"Hunted: `--principal {HUNT_PRINCIPAL}`: {match[5]} matching sessions, {match[6]} with their descendants.",
        "",
        "| tool | time (s) | MB/s gzipped | MB/s JSON | events/s | peak RSS (MB) | throughput vs zcat |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (seconds, rss) in figures.items():
        lines.append(
            f"| {name} | {seconds:.2f} | {compressed / seconds:.0f} | {megabytes / seconds:.0f} | "
            f"{records / seconds:,.0f} | {rss / 1024:.0f} | {floor / seconds:.2f}x |")
    ratio = floor / figures["rolewatch hunt (all cores)"][0]
    peak = figures["rolewatch hunt (all cores)"][1] / 1024
    checks = [(f"hunt on all cores at least 1.0x zcat: {ratio:.2f}x", ratio >= 1.0),
              (f"peak RSS of the hunt under 150 MB: {peak:.0f} MB", peak < 150)]
    return report(lines, checks, args.command)


def engine_share(scratch):
    """The detection engine's share of the all-cores run, from `scan --timings`."""
    match = re.search(r"detection engine \(one thread\) ([\d.]+) s, (\d+)% of the run",
                      open(f"{scratch}/summary-n.txt").read())
    return f"{match[1]} s, {match[2]}%" if match else "?"


def state_checks(name, state, batch):
    """The bars of a scan with state against the same scan without: 1.3x its time, 1.5x its peak."""
    return [
        (f"{name}: scan --state within 1.3x the batch scan's time: {state[0] / batch[0]:.2f}x",
         state[0] / batch[0] <= 1.3),
        (f"{name}: scan --state within 1.5x its peak RSS: {state[1] / batch[1]:.2f}x ({state[1] / 1024:.0f} MB)",
         state[1] / batch[1] <= 1.5),
    ]


def flood(args, scratch):
    """A flood of sessions (session_flood.py), no site config: every session followed, as many
    open at once as `max_tracked_keys` allows, and a scan with state saving them."""
    archive = args.archives[0]
    chosen = tools(archive, scratch)
    names = ("zcat", "rolewatch (no config)", "rolewatch (no config) scan --state")
    figures = measure_interleaved({name: chosen[name] for name in names}, {name: args.runs for name in names})
    # One more run of each, for its summary, alerts and state.
    run_once(f"{ROLEWATCH} scan {shlex.quote(archive)}/AWSLogs --no-progress --timings "
             f"> {scratch}/alerts-0.ndjson 2> {scratch}/summary-1.txt && cp {scratch}/summary-1.txt {scratch}/summary-n.txt")
    files, megabytes, compressed, records = archive_size(scratch)
    batch_alerts = sum(1 for _ in open(f"{scratch}/alerts-0.ndjson"))
    with sqlite3.connect(f"{scratch}/state-0.sqlite") as db:
        state_alerts = db.execute("SELECT count(*) FROM alert").fetchone()[0]
        saved = db.execute("SELECT count(*) FROM rule_state WHERE rule = 'session-multi-location'").fetchone()[0]
    floor, batch, state = figures["zcat"], figures["rolewatch (no config)"], figures["rolewatch (no config) scan --state"]
    lines = [
        f"Archive: {files} files, {megabytes:.0f} MB of JSON, {records:,} records. Machine: {machine()}. "
        f"Date: {datetime.date.today().isoformat()}. Medians of {args.runs} runs, taken in turns.",
        "",
        "| tool | time (s) | peak RSS (MB) | throughput vs zcat | alerts |",
        "|---|---:|---:|---:|---:|",
        f"| zcat | {floor[0]:.2f} | {floor[1] / 1024:.0f} | 1.00x | |",
        f"| rolewatch (no config) | {batch[0]:.2f} | {batch[1] / 1024:.0f} | {floor[0] / batch[0]:.2f}x | {batch_alerts} |",
        f"| rolewatch (no config) scan --state | {state[0]:.2f} | {state[1] / 1024:.0f} | {floor[0] / state[0]:.2f}x "
        f"| {state_alerts} |",
        "",
        f"Sessions saved in the state at the end: {saved:,}. The engine's thread: {engine_share(scratch)} of the "
        "batch scan. A batch scan judges every session at its end; a scan with state leaves the sessions the "
        "horizon has not passed to the next run, so it may have fewer alerts yet.",
    ]
    return report(lines, state_checks("flood", state, batch), args.command)


def shapes(args, scratch):
    """One row per archive: every figure a ratio to zcat measured in the same run, with peak RSS,
    and a scan with state against the batch scan. With --sessions, the archives are one shape
    with more and more sessions, and the check is that time grows linearly with the sessions' events."""
    rows = []
    watched_counts = []
    names = ("zcat", "rolewatch --threads 1", "rolewatch (all cores)", "rolewatch scan --state")
    for archive in args.archives:
        chosen = tools(archive, scratch)
        figures = measure_interleaved(
            {name: chosen[name] for name in names}, {name: args.runs for name in names}, label=f" on {archive}")
        watched_counts.append(watched_events(scratch))
        same = open(f"{scratch}/alerts-1.ndjson", "rb").read() == open(f"{scratch}/alerts-n.ndjson", "rb").read()
        final = final_forms(f"{scratch}/state.sqlite") == sorted(open(f"{scratch}/alerts-1.ndjson").read().splitlines())
        rows.append((os.path.basename(archive.rstrip("/")), archive_size(scratch), figures, engine_share(scratch),
                     same and final))
    lines = [
        f"Machine: {machine()}. Date: {datetime.date.today().isoformat()}. Medians of {args.runs} runs, taken in "
        "turns; every ratio is to zcat timed in the same run on the same archive.",
        "",
        "| archive | files | MB JSON | records | zcat (s) | --threads 1 vs zcat | all cores vs zcat "
        "| engine's thread (all cores) | scan --state / batch, time / RSS | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    checks = []
    for name, (files, megabytes, compressed, records), f, share, same in rows:
        floor, one, many = f["zcat"][0], f["rolewatch --threads 1"][0], f["rolewatch (all cores)"][0]
        state, state_rss = f["rolewatch scan --state"]
        rss = max(f["rolewatch --threads 1"][1], f["rolewatch (all cores)"][1]) / 1024
        batch_rss = f["rolewatch (all cores)"][1]
        lines.append(
            f"| {name} | {files} | {megabytes:.0f} | {records:,} | {floor:.2f} | {floor / one:.2f}x | "
            f"{floor / many:.2f}x | {share} | {state / many:.2f}x / {state_rss / batch_rss:.2f}x | {rss:.0f} |")
        if not args.sessions:
            checks += [
                (f"{name}: --threads 1 at least 1.0x zcat: {floor / one:.2f}x", floor / one >= 1.0),
                (f"{name}: all cores at least 1.8x zcat: {floor / many:.2f}x", floor / many >= 1.8),
                (f"{name}: scan --state within 1.3x the batch scan's time: {state / many:.2f}x", state / many <= 1.3),
                (f"{name}: scan --state within 1.5x its peak RSS: {state_rss / batch_rss:.2f}x",
                 state_rss / batch_rss <= 1.5),
            ]
        checks += [
            (f"{name}: peak RSS under 150 MB: {max(rss, state_rss / 1024):.0f} MB", max(rss, state_rss / 1024) < 150),
            (f"{name}: alerts identical on one and all cores, and the state's final forms", same),
        ]
    if args.sessions:
        # The archives differ in the vendor's sessions only (the workloads are the same), so the
        # sessions' events, those on watched roles, are what time must follow.
        per_event = [(row[0], row[2]["rolewatch (all cores)"][0] / watched * 1e6)
                     for row, watched in zip(rows, watched_counts)]
        base = per_event[0][1]
        lines += ["", "Time per event on watched roles (all cores): "
                  + ", ".join(f"{n} {t:.1f} µs ({w:,} events)" for (n, t), w in zip(per_event, watched_counts)) + "."]
        checks.append((f"time linear in the sessions: per event on watched roles at most 1.25x the smallest "
                       f"archive's at every size ({', '.join(f'{t / base:.2f}x' for _, t in per_event)})",
                       all(t <= 1.25 * base for _, t in per_event)))
    return report(lines, checks, args.command)


def final_forms(state):
    """The alerts a state holds, in their final forms, sorted (as a batch scan's output sorts)."""
    database = sqlite3.connect(state)
    try:
        return sorted(row[0] for row in database.execute("SELECT final_json FROM alert"))
    finally:
        database.close()


def scaling(args, scratch):
    """Throughput and peak memory of RoleWatch as the archive grows: state must be bounded by
    active sessions and windows, not by input size, so memory stays flat and time linear."""
    rows = []
    for archive in args.archives:
        chosen = tools(archive, scratch)
        names = ("zcat", "rolewatch --threads 1", "rolewatch (all cores)")
        figures = measure_interleaved(
            {name: chosen[name] for name in names}, {name: args.runs for name in names}, label=f" on {archive}")
        rows.append((archive, archive_size(scratch), figures))
    lines = [
        f"Machine: {machine()}. Date: {datetime.date.today().isoformat()}. Medians of {args.runs} runs, taken in turns.",
        "",
        "| archive | records | zcat (s) | --threads 1 (s) | all cores (s) | MB/s JSON, all cores | vs zcat, 1 / all "
        "| peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for archive, (files, megabytes, compressed, records), f in rows:
        floor, one, many = f["zcat"][0], f["rolewatch --threads 1"][0], f["rolewatch (all cores)"][0]
        rss = max(f["rolewatch --threads 1"][1], f["rolewatch (all cores)"][1]) / 1024
        lines.append(
            f"| {megabytes:.0f} MB JSON, {compressed:.0f} MB gzipped, {files} files | {records:,} | {floor:.2f} | "
            f"{one:.2f} | {many:.2f} | {megabytes / many:.0f} | {floor / one:.2f}x / {floor / many:.2f}x | {rss:.0f} |")
    small, large = rows[0], rows[-1]
    throughput = lambda row: row[1][1] / row[2]["rolewatch (all cores)"][0]
    peak = lambda row: max(row[2]["rolewatch --threads 1"][1], row[2]["rolewatch (all cores)"][1]) / 1024
    checks = [
        (f"peak RSS under 150 MB at every size: largest {max(peak(r) for r in rows):.0f} MB",
         all(peak(r) < 150 for r in rows)),
        (f"memory flat as the archive grows: {peak(small):.0f} MB -> {peak(large):.0f} MB",
         peak(large) <= peak(small) * 1.25 + 5),
        (f"throughput at the largest size within 10% of the smallest: {throughput(small):.0f} -> "
         f"{throughput(large):.0f} MB/s ({throughput(large) / throughput(small):.2f}x)",
         throughput(large) >= 0.9 * throughput(small)),
    ]
    return report(lines, checks, args.command)


if __name__ == "__main__":
    sys.exit(main())
