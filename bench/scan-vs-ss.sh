#!/usr/bin/env bash
# Times `portwarden-agent scan --format json` against `ss -H -tulpn` on a host with
# 300 processes holding 11 listening sockets each (3,300 listeners, ~10k fds), and
# reports the median wall-time ratio and the agent's peak RSS.
#
#   bench/scan-vs-ss.sh [PROCESSES] [RUNS]
#
# Targets (release build): ratio <= 0.6, peak RSS <= 12 MiB. Run as root so both
# tools see every process's descriptors.
set -euo pipefail
cd "$(dirname "$0")/.."
processes=${1:-300}
runs=${2:-7}
out=bench/out
mkdir -p "$out"

command -v ss >/dev/null || apt-get install -y iproute2 >/dev/null
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null

swift build -c release --product listen-fixture >/dev/null
agent=$(scripts/build-agent 2>/dev/null)
fixture=.build/release/listen-fixture

pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
: >"$out/fixtures.txt"
for _ in $(seq "$processes"); do
  # 11 listeners: TCP and UDP, IPv4 and IPv6, loopback and any; 20 more plain fds.
  "$fixture" --extra-fds 20 \
    tcp4:0.0.0.0:0 tcp4:0.0.0.0:0 tcp4:127.0.0.1:0 tcp4:127.0.0.1:0 tcp6:[::]:0 tcp6:[::]:0 tcp6:[::1]:0 \
    udp4:0.0.0.0:0 udp4:127.0.0.1:0 udp6:[::]:0 udp6:[::1]:0 >>"$out/fixtures.txt" &
  pids+=($!)
done
for _ in $(seq 100); do
  [ "$(wc -l <"$out/fixtures.txt")" -ge "$processes" ] && break
  sleep 0.1
done
listeners=$(ss -H -tuln | wc -l)
fds=$(ls /proc/[0-9]*/fd 2>/dev/null | wc -l)
echo "host: $processes fixture processes, $listeners listeners (ss -tuln), ~$fds fds"

now() { date +%s%N; }
agent_times=(); ss_times=()
"$agent" scan --format json >/dev/null 2>&1; ss -H -tulpn >/dev/null  # warm the caches
# Output goes to /dev/null in the timed runs, as hyperfine does: the figure is the
# cost of the scan, not of the disk; one untimed run keeps a copy to count.
"$agent" scan --format json >"$out/scan.json" 2>/dev/null
for _ in $(seq "$runs"); do
  t0=$(now); "$agent" scan --format json >/dev/null 2>&1; t1=$(now)
  ss -H -tulpn >/dev/null; t2=$(now)
  agent_times+=($(( (t1 - t0) / 1000 ))); ss_times+=($(( (t2 - t1) / 1000 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
agent_ms=$(median "${agent_times[@]}"); ss_us=$(median "${ss_times[@]}")
scanned=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["listeners"]))' "$out/scan.json")
# Peak RSS: the largest of five runs.
rss_kib=$(for _ in 1 2 3 4 5; do /usr/bin/time -f %M "$agent" scan --format json 2>&1 >/dev/null | tail -1; done | sort -n | tail -1)
ss_rss=$(/usr/bin/time -f %M ss -H -tulpn 2>&1 >/dev/null | tail -1)

echo "agent scan: median $((agent_ms / 1000)).$(printf '%03d' $((agent_ms % 1000))) ms over $runs runs ($scanned listeners)"
echo "ss -tulpn:  median $((ss_us / 1000)).$(printf '%03d' $((ss_us % 1000))) ms over $runs runs"
awk -v a="$agent_ms" -v s="$ss_us" 'BEGIN { printf "ratio agent/ss (wall, median): %.2f  (target <= 0.60)\n", a / s }'
awk -v r="$rss_kib" -v s="$ss_rss" 'BEGIN { printf "peak RSS (max of 5): agent %.1f MiB (target <= 12), ss %.1f MiB\n", r / 1024, s / 1024 }'
