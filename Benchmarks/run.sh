#!/usr/bin/env bash
# Benchmarks RoleWatch against zcat (the floor) and the tools a user would otherwise reach for, in one
# run on one generated archive. One command from a fresh clone:
#
#   Benchmarks/run.sh [SIZE_MB] [compare.py options]      # default 500 MB of JSON
#   Benchmarks/run.sh --scaling 200 2000                   # memory and throughput as the archive grows
#   Benchmarks/run.sh --shapes                             # every archive shape, each against zcat
#   Benchmarks/run.sh --sessions                           # 1x, 4x and 16x the sessions
#   Benchmarks/run.sh --flood                              # no config, scan --state on 200,000 sessions at once
#   Benchmarks/run.sh --audit [ROLES]                      # rolewatch audit on a generated IAM export (5,000 roles)
#   Benchmarks/run.sh --hunt [SIZE_MB]                     # rolewatch hunt against zcat (default 2000 MB)
#
# Builds RoleWatch in release mode, installs jq and DuckDB when missing, generates the archive with
# `rolewatch generate` (kept in Benchmarks/.archives for the next run; it includes the sample day's
# planted cases, so that the alert comparisons compare real alerts), and prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product rolewatch 2>&1 | tail -n 1

if [ "${1:-}" = "--audit" ]; then
  shift
  roles=5000
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then roles=$1; shift; fi
  exec python3 Benchmarks/audit_timing.py --roles "$roles" --command "$(echo "Benchmarks/run.sh --audit $roles $*" | sed 's/ *$//')" "$@"
fi

archive() {  # archive SIZE_MB -> path of a generated archive of about that size
  local dir="Benchmarks/.archives/${1}MB"
  if [ ! -d "$dir/AWSLogs" ]; then
    echo "generating a ${1} MB archive in $dir" >&2
    rm -rf "$dir"
    .build/release/rolewatch generate "$dir" --size-mb "$1" >&2
  fi
  echo "$dir"
}

shaped() {  # shaped SHAPE [CUSTOMERS] -> path of a generated archive of that shape (about 500 MB of JSON)
  local dir="Benchmarks/.archives/${1}-500MB${2:+-x$2}"
  if [ ! -d "$dir/AWSLogs" ]; then
    echo "generating a ${1} archive${2:+ with $2 customers} in $dir" >&2
    rm -rf "$dir"
    .build/release/rolewatch generate "$dir" --shape "$1" --size-mb 500 ${2:+--customers "$2"} >&2
  fi
  echo "$dir"
}

# The hunt needs neither jq nor DuckDB.
if [ "${1:-}" = "--hunt" ]; then
  shift
  size=2000
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then size=$1; shift; fi
  exec python3 Benchmarks/compare.py --hunt "$(archive "$size")" --runs 3 \
    --command "$(echo "Benchmarks/run.sh --hunt $size $*" | sed 's/ *$//')" "$@"
fi

if ! command -v jq >/dev/null; then
  echo "installing jq" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq jq; else sudo apt-get install -y -qq jq; fi
fi
if ! python3 -c "import duckdb" 2>/dev/null; then
  echo "installing duckdb (pip)" >&2
  python3 -m pip install --quiet duckdb
fi

if [ "${1:-}" = "--shapes" ]; then
  shift
  exec python3 Benchmarks/compare.py --shapes "$(archive 500)" "$(shaped small-files)" "$(shaped many-sessions 500)" \
    "$(shaped exports)" --runs 3 --command "Benchmarks/run.sh --shapes $*" "$@"
fi

if [ "${1:-}" = "--sessions" ]; then
  shift
  exec python3 Benchmarks/compare.py --sessions "$(shaped many-sessions 500)" "$(shaped many-sessions 2000)" \
    "$(shaped many-sessions 8000)" --runs 3 --command "Benchmarks/run.sh --sessions $*" "$@"
fi

if [ "${1:-}" = "--flood" ]; then
  shift
  dir=Benchmarks/.archives/session-flood
  if [ ! -d "$dir/AWSLogs" ]; then
    echo "generating a flood of sessions in $dir" >&2
    rm -rf "$dir"
    python3 Benchmarks/session_flood.py "$dir" >&2
  fi
  exec python3 Benchmarks/compare.py --flood "$dir" --runs 3 --command "Benchmarks/run.sh --flood $*" "$@"
fi

if [ "${1:-}" = "--scaling" ]; then
  shift
  sizes=("${@:-200 2000}")
  dirs=()
  for size in ${sizes[@]}; do dirs+=("$(archive "$size")"); done
  exec python3 Benchmarks/compare.py --scaling "${dirs[@]}" --command "Benchmarks/run.sh --scaling ${sizes[*]}"
fi

size=500
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then size=$1; shift; fi
exec python3 Benchmarks/compare.py "$(archive "$size")" --command "$(echo "Benchmarks/run.sh $size $*" | sed 's/ *$//')" "$@"
