#!/usr/bin/env bash
# Hostile input against a running `portwarden serve` (the real binary) while a good agent
# reports every 20 ms: 500 connections that never finish a handshake, 20 × 4 KiB of
# random bytes on the TLS port, a 100 MB body declared by Content-Length and another sent
# chunked, malformed JSON, JSON nested a million deep. Prints the agent's p50/p99 and
# the collector's resting and peak RSS (VmRSS), RUNS times.
#
#   bench/hostile.sh [RUNS=3]
#
# The scenario and its assertions (every report within 1 s, p99 < 250 ms, no failed report, RSS growth < 80 MiB,
# the refusals counted in /metrics) are the test
# ServeTests.hostileInputLeavesAGoodAgentServedAndMemoryBounded.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
swift build --build-tests >/dev/null
for run in $(seq "$runs"); do
  out=$(swift test --skip-build --disable-xctest --filter hostileInputLeavesAGoodAgentServedAndMemoryBounded 2>&1) || {
    echo "$out" | grep -E '✘|Expectation' | head -20; exit 1; }
  echo "run $run: $(echo "$out" | grep -oE 'hostile: .*' | sed 's/^hostile: //')"
done
