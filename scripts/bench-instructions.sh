#!/usr/bin/env bash
# Instructions per case straight through (intake → permit) on SQLite, counted by callgrind: the
# difference between a run of 5,120 cases and one of 1,024, divided by 4,096, so that start-up is
# not counted. Unlike cases per second on a shared 2-core VM (whose speed varies by ±40% within
# an hour), the count is the same from run to run (±0.5%), so two builds can be compared.
#   scripts/bench-instructions.sh            (needs valgrind: apt-get install valgrind)
# It counts the user-space work of every thread; the kernel's (writes, fsync) is not in it, and
# SHA-256 runs without the CPU's SHA instructions under valgrind, so the audit chain's hashing
# counts ~40k instructions a case here that cost far less on the real CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
bench=$(cargo bench -p koshi --bench throughput --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
[ -x "$bench" ] || { echo "could not build the throughput bench" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  env -u KOSHI_TEST_DATABASE_URL -u KOSHI_BENCH_DATABASE_URL KOSHI_BENCH_CASES=$1 KOSHI_BENCH_CONCURRENCY=64 \
    KOSHI_BENCH_NO_LATENCY=1 KOSHI_BENCH_ONLY_CASES=1 KOSHI_BENCH_REPEAT=1 \
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" "$bench" >/dev/null 2>&1
  awk '/^(summary|totals):/ {print $2; exit}' "$out/cg.$1"
}
small=$(count 1024)
large=$(count 5120)
echo "instructions per case (SQLite, straight through): $(((large - small) / 4096))"
