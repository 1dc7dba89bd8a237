#!/usr/bin/env bash
# The proof of issue 15 item 7, in one command: the straight-through bench in process (SQLite,
# and PostgreSQL when KOSHI_BENCH_DATABASE_URL is set), Koshi over HTTP on loopback
# (`koshi-bench http`: filings and reads at fixed rates and at most, the server's memory), and
# the chart of both. Writes bench/throughput.json, bench/http.json and bench/bench.png.
#   scripts/bench.sh
#   KOSHI_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test scripts/bench.sh
# Takes ~10 minutes after the release build. Numbers on a shared VM move with its other tenants:
# read each beside the durable-write ceiling of the same run (in the table) and the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench
KOSHI_BENCH_OUT="$PWD/bench/throughput.json" KOSHI_BENCH_REPEAT=${KOSHI_BENCH_REPEAT:-5} \
  cargo bench -p koshi --bench throughput
cargo build --release -p koshi -p koshi-bench
target/release/koshi-bench http --out bench/http.json "$@"
target/release/koshi-bench chart --throughput bench/throughput.json --http bench/http.json --out bench/bench.png
