#!/bin/sh
# Evaluates 10,000 hosts × 50 listeners against Policies/ plus 30 more rules (release
# build) and prints the time; the target is under one second. Exit 1 when it is missed.
# Usage: bench/policy-eval.sh [HOSTS=10000]
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product policy-bench >&2
exec "$(swift build -c release --show-bin-path)/policy-bench" Policies "${1:-10000}"
