#!/usr/bin/env python3
"""Tail-mode latency: the time from a CloudTrail file landing in the watched folder (renamed
into place, as `aws s3 sync` does) to its alert line appearing in `rolewatch tail --output`.

    python3 Benchmarks/tail_latency.py [--files N] [--binary PATH] [--poll-interval S]

Each file holds 200 background records and one AssumeRole from outside AWS with a new source
address, so each raises a new alert. Files land one at a time, 100 ms apart; the script polls
the output file every 0.2 ms. Prints median, p90, p99 and max, in milliseconds, for inotify
and (with --poll-interval) for polling. Run from the repository root after
`swift build -c release`.
"""
import argparse, gzip, json, os, signal, statistics, subprocess, sys, tempfile, time, uuid

OUTBOUND = "arn:aws:sts::111122223333:assumed-role/IntegrationOutbound/acme-backend-i-0a1b2c3d4e5f60718"


def record(index, minute, ip, role_account, watched=True):
    role = f"arn:aws:iam::{role_account}:role/{'AcmeIntegrationRole' if watched else 'Unrelated'}"
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole", "principalId": "AROAEXAMPLE:acme-backend-i-0a1b2c3d4e5f60718", "arn": OUTBOUND,
            "accountId": "111122223333", "accessKeyId": "ASIAOUTBOUND0000001",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/IntegrationOutbound",
                                                 "accountId": "111122223333", "userName": "IntegrationOutbound"},
                               "attributes": {"creationDate": "2025-11-20T00:00:00Z", "mfaAuthenticated": "false"}}},
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1763596800 + minute * 60 + index % 50)),
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "awsRegion": "us-east-1",
        "sourceIPAddress": ip, "userAgent": "aws-sdk-go-v2/1.30.3",
        "requestParameters": {"roleArn": role, "roleSessionName": "vendor-scan-1a2b3c4d", "externalId": "acme-7f3c9e21"},
        "responseElements": {"credentials": {"accessKeyId": f"ASIA{index:016d}", "sessionToken": "x",
                                             "expiration": "2025-11-20T11:00:00Z"}},
        "eventID": str(uuid.uuid4()), "eventType": "AwsApiCall", "recipientAccountId": "111122223333",
    }


def trail_file(n):
    background = [record(i, n, "3.95.112.132", 500000000000 + i, watched=False) for i in range(200)]
    planted = record(10_000 + n, n, f"198.51.{100 + n // 250}.{n % 250 + 1}", 444455556666)
    return gzip.compress(json.dumps({"Records": background + [planted]}).encode())


def measure(binary, files, extra, label):
    with tempfile.TemporaryDirectory() as work:
        logs, output = os.path.join(work, "logs"), os.path.join(work, "alerts.ndjson")
        os.makedirs(logs)
        stderr = open(os.path.join(work, "stderr"), "w+")
        tail = subprocess.Popen(
            [binary, "tail", logs, "--config", "Samples/rolewatch.yaml", "--state", os.path.join(work, "state.sqlite"),
             "--output", output] + extra, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 30
        while not os.path.exists(output) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        latencies = []
        folder = os.path.join(logs, "AWSLogs/111122223333/CloudTrail/us-east-1/2025/11/20")
        os.makedirs(folder)
        for n in range(files):
            body = trail_file(n)
            name = os.path.join(folder, f"111122223333_CloudTrail_us-east-1_20251120T{n // 60 % 24:02d}{n % 60:02d}Z_{n:016d}.json.gz")
            with open(name + ".tmp", "wb") as f:
                f.write(body)
            size = os.path.getsize(output)
            os.rename(name + ".tmp", name)
            landed = time.monotonic()
            while os.path.getsize(output) == size:
                if time.monotonic() - landed > 30:
                    sys.exit(f"{label}: no alert 30 s after file {n} landed; see {stderr.name}")
                time.sleep(0.0002)
            latencies.append((time.monotonic() - landed) * 1000)
            time.sleep(0.1)
        tail.send_signal(signal.SIGTERM)
        status = tail.wait(timeout=30)
        if status != 0:
            stderr.seek(0)
            sys.exit(f"{label}: tail exited {status}: {stderr.read()}")
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    return f"| {label} | {files} | {statistics.median(latencies):.1f} | {pick(0.90):.1f} | {pick(0.99):.1f} | {latencies[-1]:.1f} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--binary", default=".build/release/rolewatch")
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args()
    print("| watching | files | median ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print(measure(args.binary, args.files, [], "inotify"), flush=True)
    if args.poll_interval > 0:
        print(measure(args.binary, max(20, args.files // 5), ["--poll-interval", str(args.poll_interval)],
                      f"polling every {args.poll_interval:g} s"), flush=True)


if __name__ == "__main__":
    main()
