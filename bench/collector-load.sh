#!/usr/bin/env bash
# Drives `portwarden serve` on loopback with simulated agents (collector-load, on the
# agent's own TLS client) sending 50-listener snapshots, with full mTLS handshakes and
# with resumed sessions; prints reports/s and p50/p99 beside `openssl speed` on the same
# machine, the same connections answering GET /healthz (transport alone), and OpenSSL's
# handshakes alone in one process (the ceiling nothing above them can pass); then shows
# the database does not grow while 1,000 unchanged hosts report for an hour (60 rounds,
# compressed in time). Then the small unchanged report (each host's full report first,
# then only the digest of the state the collector holds), and a fleet of 100,000 agents
# reporting once a minute offered open-loop at 1,667 reports/s for FLEET_SECONDS (99%
# unchanged, 1% changed; 1% of connections full handshakes), from 2,000 hosts each
# keeping its connection from one report to the next as the agent does (--keep): offered
# and achieved rates, failures, p50/p99 from each report's due time, the collector's
# peak and current RSS, and the CPU shares of the collector and of the load generator
# beside it on the same cores — with the arithmetic of the headroom left.
#
#   bench/collector-load.sh [ROUNDS=10] [CONCURRENCY=32] [FLEET_SECONDS=60]   (200 hosts × ROUNDS reports)
#
# Targets (2 cores): ≥ 2,000 reports/s resumed, ≥ 800/s full handshake, p99 < 50 ms;
# the fleet's 1,667/s achieved with no failure.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
concurrency=${2:-32}
fleet_seconds=${3:-60}
. bench/collector.sh
# Every simulated host connects from 127.0.0.1: the per-address cap (1,000) would have
# the fleet's 2,000 kept connections give way to each other, as hosts behind one NAT
# address would past it. A real fleet comes from many addresses.
start_collector --no-policy --max-connections-per-address 10000

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

echo "== unchanged reports, 200 hosts × $rounds: the full report once, then the small one naming the state digest"
load --hosts 200 --rounds "$rounds" --first-sequence 1000000 --unchanged --resume
load --hosts 200 --rounds "$rounds" --first-sequence 2000000 --unchanged

echo "== 100,000 agents reporting once a minute: 1,667 reports/s offered for ${fleet_seconds} s from 2,000 hosts" \
  "(99% unchanged, 1% changed; 1% full handshakes), each host keeping its connection; latency from each report's due time"
out=$("$bin/collector-load" --state-dir "$state" --port "$port" --rate 1667 --seconds "$fleet_seconds" \
  --hosts 2000 --concurrency 128 --first-sequence 3000000 --server-pid "$server" --keep) || true
echo "$out"
echo "collector RSS: peak (VmHWM) $(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status"), now (VmRSS) $(awk '/VmRSS/ {print $2, $3}' "/proc/$server/status")"
python3 - "$out" "$(nproc)" <<'PY'
import re, sys
out, cores = sys.argv[1], int(sys.argv[2])
if "collector_cpu=" not in out:
    sys.exit("no fleet figures: the load generator did not finish (see its line above)")
field = lambda name: float(re.search(name + r"=([0-9.]+)", out).group(1))
share = lambda name: float(re.search(name + r"=\S+ \(([0-9.]+) cores", out).group(1))
offered, achieved = field("offered"), max(field("achieved"), 1)
generator, collector, machine = share("generator_cpu"), share("collector_cpu"), share("machine_busy")
others = max(machine - collector - generator, 0)
per = collector / achieved                      # collector CPU seconds a report
need = per * offered                            # cores the collector needs at the offered rate
generator_at = generator * offered / achieved   # and the generator beside it, at that rate
spare = cores - generator_at
print(f"CPU, of {cores} cores: collector {collector:.2f} at {achieved:.0f} reports/s achieved ({per * 1e6:.0f} µs a report), "
      f"load generator {generator:.2f}, other processes {others:.2f}" + (" (not an idle machine)" if others > 0.1 else ""))
print(f"at {offered:.0f}/s offered: the collector needs {per * 1e6:.0f} µs × {offered:.0f}/s = {need:.2f} cores; "
      f"the generator would take {generator_at:.2f}, leaving {cores} − {generator_at:.2f} = {spare:.2f}"
      + (f": headroom {spare / need:.2f}× ({spare / per:.0f} reports/s would fit on the cores the generator leaves)"
         if spare > 0 and need > 0 else ": no room to measure the collector's headroom on this machine"))
PY
