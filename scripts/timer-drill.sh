#!/usr/bin/env bash
# Two Koshi processes on one PostgreSQL fire 10,000 durable timers; each must fire exactly once.
#   scripts/timer-drill.sh [postgres://…]   (default: a fresh database on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:-postgres://postgres@127.0.0.1:5432}"
DB="koshi_drill_$$"
psql "$BASE/postgres" -qc "CREATE DATABASE $DB" >/dev/null
trap 'psql "$BASE/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null' EXIT
export KOSHI_DATABASE_URL="$BASE/$DB"
cargo build -q --release -p koshi
K=target/release/koshi
$K drill-timers schedule --count 10000
$K drill-timers fire --owner process-a &
A=$!
$K drill-timers fire --owner process-b &
B=$!
wait $A $B
$K drill-timers verify | tee /dev/stderr | grep -q "exactly once"
