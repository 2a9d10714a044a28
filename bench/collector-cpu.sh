#!/usr/bin/env bash
# Where a report's CPU goes: drives `portwarden serve` with collector-load for SECONDS in
# each mode and prints, per report, the CPU time of each of the collector's threads (by
# name, from /proc/PID/task/*/stat) and of the load generator, counted over the measured
# reports only (not each host's first report, nor the certificates issued before). Modes:
# a full handshake per report, resumed (the same 50-listener snapshot again), changed
# (resumed, one listener moved in every report), unchanged (resumed, the small report
# naming the state digest), and resumed GET /healthz — the transport alone. Ends with
# the collector's µs a report for unchanged, changed and full-handshake reports; then
# changed and unchanged again on kept connections (--keep: each host's report goes on
# the connection its last one left open, as an agent's `run` does).
# Pairs with bench/collector-load.sh.
#
#   bench/collector-cpu.sh [SECONDS=6] [CONCURRENCY=32]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-6}
concurrency=${2:-32}
. bench/collector.sh
start_collector --no-policy

load --hosts 200 --rounds 1 >/dev/null
declare -A collector
# Reports dated now come last: a host dated now cannot go back to the fixed past time.
for mode in full-handshake:--first-sequence:1000 resumed:--first-sequence:100000:--resume get-healthz:--resume:--get:/healthz \
            changed:--first-sequence:200000:--resume:--changing:--now unchanged:--first-sequence:300000:--resume:--unchanged \
            changed-kept:--first-sequence:400000:--keep:--changing:--now unchanged-kept:--first-sequence:500000:--keep:--unchanged; do
  IFS=: read -r -a arguments <<< "${mode#*:}"
  out=$(load --hosts 200 --seconds "$seconds" --server-pid "$server" "${arguments[@]}") || true
  echo "$out" | sed "1s/^mode=[^ ]*/mode=${mode%%:*}/"
  collector[${mode%%:*}]=$(sed -nE 's/.*µs of CPU a report: collector ([0-9]+).*/\1/p' <<< "$out")
done
echo "µs of collector CPU a report: unchanged ${collector[unchanged]:-?}, changed (50 listeners, resumed)" \
  "${collector[changed]:-?}, full handshake ${collector[full-handshake]:-?};" \
  "on the connection the last report left open: unchanged ${collector[unchanged-kept]:-?}, changed ${collector[changed-kept]:-?}"
