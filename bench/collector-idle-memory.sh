#!/usr/bin/env bash
# What a kept connection costs the collector in memory: HOSTS simulated agents report
# once with their connections closed after (the reference), then once more keeping them
# open (--keep, as an agent's `run` does), and the collector's RSS is read while they
# are held open idle. Prints the RSS of both and the difference a connection — the
# figure to size max_connections by (docs/SCALING.md, "Kept connections").
#
#   bench/collector-idle-memory.sh [HOSTS=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-2000}
. bench/collector.sh
start_collector --no-policy --host-reports-per-minute 100000
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }

# Each host's first report and session, twice, so the reference holds what the
# measured run's reports leave behind (host rows, the session cache, warm allocators).
load --hosts "$hosts" --rounds 1 --resume >/dev/null
load --hosts "$hosts" --rounds 1 --resume --first-sequence 1000 >/dev/null
sleep 1
closed=$(rss)
"$bin/collector-load" --state-dir "$state" --port "$port" --concurrency 32 --hosts "$hosts" --rounds 1 --keep \
  --first-sequence 2000 --hold 4 > "$state/held.log" &
loader=$!
for _ in $(seq 600); do grep -q '^holding' "$state/held.log" 2>/dev/null && break; sleep 0.1; done
sleep 1
open=$(rss)
wait "$loader"
echo "collector RSS with $hosts hosts' connections closed: $closed KiB; with them kept open idle: $open KiB"
python3 -c "print(f'a kept connection: {($open - $closed) / $hosts:.1f} KiB ({$hosts} connections: {($open - $closed) / 1024:.1f} MiB)')"
