#!/usr/bin/env bash
# Fuzzes what reads an adversary's bytes (the record splitter, the CloudTrail decoder and the
# evidence text) with libFuzzer, for a bounded time:
#
#   scripts/fuzz.sh [SECONDS]        # default 60
#
# Builds scripts/fuzz/SplitDecode.swift with those sources and -sanitize=fuzzer,address (swiftc ships
# libFuzzer on Linux), starts from the committed seeds in scripts/fuzz/corpus, and keeps what it finds
# in .build/fuzz/corpus for the next run. A crash, a sanitizer report, a hang over 5 s or a
# split that depends on where the input is cut stops it with the input saved under
# .build/fuzz/ (crash-…, timeout-…); replay one with `.build/fuzz/split-decode FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=.build/fuzz
mkdir -p "$out/corpus"
swiftc -sanitize=fuzzer,address -parse-as-library -O \
  scripts/fuzz/SplitDecode.swift \
  Sources/RoleWatchKit/Input/RecordSplitter.swift Sources/RoleWatchKit/Input/JSONNesting.swift \
  Sources/RoleWatchKit/Input/SplitProblem.swift Sources/RoleWatchKit/Decoding/*.swift \
  -o "$out/split-decode" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
"$out/split-decode" -max_total_time="$seconds" -max_len=65536 -timeout=5 -artifact_prefix="$out/" \
  "$out/corpus" scripts/fuzz/corpus
