#!/usr/bin/env bash
# 1,000 simulated agents against one collector for 60 s (release build, loopback):
# prints reports/s, p50/p99 and failures (must be 0), and the collector's peak RSS.
#
#   bench/fleet-load.sh [AGENTS=1000] [SECONDS=60] [CONCURRENCY=64]
set -euo pipefail
cd "$(dirname "$0")/.."
agents=${1:-1000}
seconds=${2:-60}
concurrency=${3:-64}
swift build -c release --product portwarden >/dev/null
swift build -c release --product collector-load >/dev/null
bin=$(swift build -c release --show-bin-path)
state=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=""
cleanup() { [ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$state"; }
trap cleanup EXIT
"$bin/portwarden" ca init --state-dir "$state" --name 127.0.0.1 >/dev/null
"$bin/portwarden" serve --state-dir "$state" --listen "127.0.0.1:$port" --policies Policies 2>/dev/null &
server=$!
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "== $agents agents, resumed sessions, for ${seconds} s, $concurrency at a time (the default policy evaluated at ingest)"
"$bin/collector-load" --state-dir "$state" --port "$port" --hosts "$agents" --concurrency "$concurrency" --seconds "$seconds" --resume
echo "collector peak RSS: $(grep VmHWM /proc/$server/status | awk '{print $2, $3}')"
