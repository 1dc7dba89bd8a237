#!/usr/bin/env bash
# The officer's work queue on 10,000,000 cases in PostgreSQL (issue 15's target: the first page of
# a unit's queue, by legal deadline, p99 ≤ 50 ms). Makes a database of its own, fills it, and
# times the statements Koshi sends for a page (the page and its counts by status) with pgbench.
#   scripts/queue-bench.sh [postgres://postgres@127.0.0.1:5432]
set -euo pipefail
cd "$(dirname "$0")/.."
server="${1:-postgres://postgres@127.0.0.1:5432}"
db="koshi_queue_bench"
psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db"
cargo build -q --release -p koshi
KOSHI_DATABASE_URL="$server/$db" ./target/release/koshi token list >/dev/null   # migrations
psql "$server/$db" -q -f scripts/queue-10m-cases.sql
psql "$server/$db" -qc "VACUUM ANALYZE applications"
open="a.status <> 'issued' AND a.status <> 'refused' AND a.status <> 'refused_to_accept' AND a.status <> 'annulled' AND a.status <> 'withdrawn'"
cat > /tmp/koshi-queue-page.sql <<SQL
SELECT a.id, a.kind, a.status, a.channel, a.unit, a.filed_unit, a.purpose, a.filed_at, a.accepted_on, a.due_on, a.permit_number, f.receipt, COALESCE(a.due_on, '9999-12-31') AS sort_key, CAST(NULL AS TEXT) AS data FROM applications a JOIN application_filings f ON f.id = a.id WHERE a.unit IN ('ALM-01') AND $open ORDER BY COALESCE(a.due_on, '9999-12-31') ASC, a.id ASC LIMIT 51;
SELECT a.status, COUNT(*) FROM applications a WHERE a.unit IN ('ALM-01') AND $open GROUP BY a.status ORDER BY a.status;
SQL
rm -f /tmp/koshi-queue-log*
pgbench -n -f /tmp/koshi-queue-page.sql -c 2 -T 20 -l --log-prefix=/tmp/koshi-queue-log "$server/$db" | grep -E "tps|latency average"
cat /tmp/koshi-queue-log* | awk '{print $3}' | sort -n \
  | awk '{a[NR]=$1} END {printf "pages: %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", NR, a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, a[NR]/1000}'
