#!/usr/bin/env bash
# The CPU `portwarden-agent run` spends per cycle once it is running (scan, spool, one
# delivery attempt), on bench/scan-vs-ss.sh's host: 300 processes holding 11 listening
# sockets each (3,300 listeners, ~12k fds). Beside it, one `scan --format json` as its
# own process, which also pays for starting the program.
#
#   bench/agent-cpu.sh [PROCESSES] [CYCLES]      default: 300 processes, 20 cycles
#
# `run` reports to a collector that is not there (127.0.0.1:1 refuses at once), with a
# host identity made here by openssl (a throwaway CA and host certificate): every cycle
# scans and spools its snapshot, and the delivery fails without waiting. The figure is
# utime + stime from /proc/PID/stat across CYCLES cycles after two to warm up, divided
# by the cycles counted in its log; the clock ticks are 10 ms, so 20 cycles resolve
# 0.5 ms. Run as root, as the agent runs, so it reads every process's descriptors.
set -euo pipefail
cd "$(dirname "$0")/.."
processes=${1:-300}
cycles=${2:-20}

command -v openssl >/dev/null || { echo "needs openssl" >&2; exit 2; }
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
swift build -c release --product listen-fixture >/dev/null
agent=$(scripts/build-agent 2>/dev/null)
fixture=.build/release/listen-fixture
work=$(mktemp -d /tmp/pw-agent-cpu.XXXXXX)

pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
: >"$work/fixtures.txt"
for _ in $(seq "$processes"); do
  "$fixture" --extra-fds 20 \
    tcp4:0.0.0.0:0 tcp4:0.0.0.0:0 tcp4:127.0.0.1:0 tcp4:127.0.0.1:0 tcp6:[::]:0 tcp6:[::]:0 tcp6:[::1]:0 \
    udp4:0.0.0.0:0 udp4:127.0.0.1:0 udp6:[::]:0 udp6:[::1]:0 >>"$work/fixtures.txt" &
  pids+=($!)
done
for _ in $(seq 100); do
  [ "$(wc -l <"$work/fixtures.txt")" -ge "$processes" ] && break
  sleep 0.1
done
echo "host: $processes fixture processes, $(ss -H -tuln | wc -l) listeners (ss -tuln)"

# A host identity the agent accepts: its own CA, a P-256 host key and certificate.
state="$work/agent"
mkdir -m 700 "$state"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" -out "$state/ca.pem" \
  -subj /CN=bench-ca -days 30 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$state/host.key" -out "$work/host.csr" \
  -subj /CN=bench-host 2>/dev/null
openssl x509 -req -in "$work/host.csr" -CA "$state/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 30 \
  -out "$state/host.pem" 2>/dev/null
chmod 600 "$state/host.key"
printf 'collector: 127.0.0.1:1\nstate_dir: %s\n' "$state" >"$work/agent.yaml"

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
done_cycles() { grep -c 'event=delivery_waiting' "$work/run.log" || true; }
wait_cycles() { while [ "$(done_cycles)" -lt "$1" ]; do kill -0 "$run" 2>/dev/null || { tail -3 "$work/run.log" >&2; exit 3; }; sleep 0.05; done; }

"$agent" run --config "$work/agent.yaml" --interval 1 --spool-max-count 2 >"$work/run.log" 2>&1 &
run=$!
pids+=("$run")
wait_cycles 2
c0=$(done_cycles); t0=$(cpu "$run")
wait_cycles $((c0 + cycles))
c1=$(done_cycles); t1=$(cpu "$run")
kill "$run"
awk -v t="$((t1 - t0))" -v n="$((c1 - c0))" -v hz="$ticks" \
  'BEGIN { printf "run: %.1f ms CPU per cycle (utime+stime over %d cycles: scan, spool, one failed delivery)\n", 1000 * t / hz / n, n }'

# The same scan as a process of its own: GNU time's user + system, median of 7.
for _ in 1 2 3 4 5 6 7; do
  /usr/bin/time -f '%U %S' -o "$work/time" "$agent" scan --format json >/dev/null 2>&1
  awk '{ printf "%d\n", ($1 + $2) * 1000 }' "$work/time"
done | sort -n | awk '{a[NR]=$1} END { printf "scan --format json (own process): %d ms CPU (median of 7, 10 ms ticks)\n", a[4] }'
