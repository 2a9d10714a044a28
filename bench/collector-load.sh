#!/usr/bin/env bash
# Drives `portwarden serve` on loopback with simulated agents (collector-load, on the
# agent's own TLS client) sending 50-listener snapshots, with full mTLS handshakes and
# with resumed sessions; prints reports/s and p50/p99 beside `openssl speed` on the same
# machine, the same connections answering GET /healthz (transport alone), and OpenSSL's
# handshakes alone in one process (the ceiling nothing above them can pass); then shows
# the database does not grow while 1,000 unchanged hosts report for an hour (60 rounds,
# compressed in time).
#
#   bench/collector-load.sh [ROUNDS=10] [CONCURRENCY=32]     (200 hosts × ROUNDS reports)
#
# Targets (2 cores): ≥ 2,000 reports/s resumed, ≥ 800/s full handshake, p99 < 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
concurrency=${2:-32}
. bench/collector.sh
start_collector --no-policy

load --hosts 200 --rounds 1 >/dev/null                             # warm up, first rows
echo "== $((rounds * 200)) reports of 50 listeners, $concurrency at a time, 200 hosts"
load --hosts 200 --rounds "$rounds" --first-sequence 1000
load --hosts 200 --rounds "$rounds" --first-sequence 100000 --resume
echo "== the same, GET /healthz instead of a report: connection, TLS and HTTP alone"
load --hosts 200 --rounds "$rounds" --get /healthz | sed 's/^mode=/mode=get-/'
load --hosts 200 --rounds "$rounds" --get /healthz --resume | sed 's/^mode=/mode=get-/'
echo "== the same machine's OpenSSL (1 s each), and its handshakes alone in one process"
openssl speed -seconds 1 ecdsap256 ecdhp256 2>/dev/null | grep -E '^ *(256 bits ecdsa|256 bits ecdh|sign|op)' || true
load --hosts 50 --openssl-floor 2000

size() {
  python3 - "$state/portwarden.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
pages, size = db.execute("PRAGMA page_count").fetchone()[0], db.execute("PRAGMA page_size").fetchone()[0]
print(pages * size)
PY
}
echo "== 1,000 unchanged hosts, one report a minute for an hour (60 rounds)"
load --hosts 1000 --rounds 1 --first-sequence 1 >/dev/null
before=$(size)
load --hosts 1000 --rounds 59 --first-sequence 2 | sed 's/^/   /'
after=$(size)
echo "database: $before bytes after the first round, $after bytes after 60 rounds"
