#!/usr/bin/env python3
"""What a user would write instead of RoleWatch: read every CloudTrail file with gzip + json,
keep the AssumeRole calls, and group them by caller and target role, with the source IPs
and session names seen. Prints one line per group. Used by compare.py as a competitor."""
import gzip
import json
import os
import sys
from collections import defaultdict


def trail_files(root):
    for folder, _, names in os.walk(root):
        if "CloudTrail-Digest" in folder:
            continue
        for name in names:
            if name.endswith(".json.gz"):
                yield os.path.join(folder, name)


def main(root):
    groups = defaultdict(lambda: [0, set(), set()])
    for path in sorted(trail_files(root)):
        with gzip.open(path, "rb") as handle:
            for record in json.load(handle).get("Records", []):
                if record.get("eventName") != "AssumeRole":
                    continue
                caller = (record.get("userIdentity") or {}).get("arn") or "?"
                request = record.get("requestParameters") or {}
                group = groups[(caller, request.get("roleArn"))]
                group[0] += 1
                group[1].add(record.get("sourceIPAddress"))
                group[2].add(request.get("roleSessionName"))
    for (caller, role), (count, ips, names) in sorted(groups.items(), key=lambda item: -item[1][0]):
        print(count, caller, role, len(ips), len(names))


if __name__ == "__main__":
    main(sys.argv[1])
