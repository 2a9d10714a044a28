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
. bench/collector.sh
start_collector --policies Policies
echo "== $agents agents, resumed sessions, for ${seconds} s, $concurrency at a time (the default policy evaluated at ingest)"
load --hosts "$agents" --seconds "$seconds" --resume
echo "collector peak RSS: $(grep VmHWM /proc/$server/status | awk '{print $2, $3}')"
