#!/usr/bin/env python3
"""Writes a flood of role sessions in the S3 layout: SESSIONS distinct sessions (default 200,000)
of 200 workload roles in one account and three regions, begun within three hours, each used twice
from one address inside AWS, one in 3,333 also from an outside address (61 of 200,000). Without a
site config RoleWatch follows every session of every role, so more sessions are open at once than
`max_tracked_keys` (100,000) allows: the state a scan with state saves is as large as it can get.

Usage: session_flood.py DIR [--sessions N] [--seed S]
"""
import argparse
import datetime
import gzip
import json
import os
import random

ACCOUNT = "111122223333"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
START = datetime.datetime(2025, 11, 20)
MINUTES = 180
KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def stamp(time):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ")


def record(rnd, time, key, role, session, address, region, name="GetObject"):
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole", "principalId": f"AROA6YDC838YQSNZVWFNG:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", "accountId": ACCOUNT, "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROA91E5B05E17251E84B",
                                  "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT, "userName": role},
                "attributes": {"creationDate": stamp(time - datetime.timedelta(minutes=1)), "mfaAuthenticated": "false"},
            },
        },
        "eventTime": stamp(time), "eventSource": "s3.amazonaws.com", "eventName": name, "awsRegion": region,
        "sourceIPAddress": address,
        "userAgent": "aws-sdk-java/2.26.20 Linux/5.10.220 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11",
        "requestParameters": {"bucketName": "acme-data", "key": f"prefix/2025/11/{rnd.randrange(10**8):08d}.parquet"},
        "responseElements": None, "requestID": f"{rnd.getrandbits(64):016X}",
        "eventID": f"{rnd.getrandbits(32):08x}-{rnd.getrandbits(16):04x}-4{rnd.getrandbits(12):03x}-"
                   f"8{rnd.getrandbits(12):03x}-{rnd.getrandbits(48):012x}",
        "readOnly": True, "eventType": "AwsApiCall", "managementEvent": False, "recipientAccountId": ACCOUNT,
        "eventCategory": "Data",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir")
    parser.add_argument("--sessions", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    files = {}  # (region, 2-minute slot) -> records

    def add(time, rec, region):
        files.setdefault((region, int((time - START).total_seconds()) // 120), []).append(rec)

    for n in range(args.sessions):
        begun = START + datetime.timedelta(minutes=rnd.randrange(MINUTES - 5), seconds=rnd.randrange(60))
        key = "ASIA" + "".join(rnd.choice(KEY_ALPHABET) for _ in range(16))
        role = f"app-{rnd.randrange(200)}-execution"
        session = f"i-{rnd.getrandbits(68):017x}" if rnd.random() < 0.5 else f"task-{rnd.getrandbits(32):08x}"
        region = rnd.choice(REGIONS)
        address = f"3.{rnd.randrange(80, 90)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        for use in range(2):
            time = begun + datetime.timedelta(minutes=use * rnd.randrange(1, 4))
            add(time, record(rnd, time, key, role, session, address, region), region)
        if n % 3333 == 0:
            time = begun + datetime.timedelta(minutes=4)
            outside = f"203.0.113.{rnd.randrange(1, 255)}"
            add(time, record(rnd, time, key, role, session, outside, region, name="ListBuckets"), region)
    for (region, slot), records in sorted(files.items()):
        time = START + datetime.timedelta(minutes=2 * slot)
        folder = os.path.join(args.dir, "AWSLogs", ACCOUNT, "CloudTrail", region, time.strftime("%Y/%m/%d"))
        os.makedirs(folder, exist_ok=True)
        records.sort(key=lambda r: r["eventTime"])
        name = f"{ACCOUNT}_CloudTrail_{region}_{time.strftime('%Y%m%dT%H%MZ')}_FLOOD{slot:04d}.json.gz"
        with gzip.open(os.path.join(folder, name), "wt", compresslevel=6) as out:
            json.dump({"Records": records}, out)
    print(f"{len(files)} files, {args.sessions:,} sessions in {args.dir}")


if __name__ == "__main__":
    main()
