#!/usr/bin/env bash
# Where a report's CPU goes: drives `portwarden serve` with collector-load for SECONDS in
# each mode (full handshake, resumed, and resumed GET /healthz — the transport alone) and
# prints, per report, the CPU time of each of the collector's threads (by name, from
# /proc/PID/task/*/stat) and of the load generator. Pairs with bench/collector-load.sh.
#
#   bench/collector-cpu.sh [SECONDS=6] [CONCURRENCY=32]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-6}
concurrency=${2:-32}
. bench/collector.sh
start_collector --no-policy

# Clock ticks per thread name (trailing digits dropped: NIO-SGLTN-1-#0 and #1 add up).
threads() {
  python3 - "$server" <<'PY'
import json, os, re, sys
pid, ticks = sys.argv[1], {}
for task in os.listdir(f"/proc/{pid}/task"):
    try:
        stat = open(f"/proc/{pid}/task/{task}/stat").read()
    except OSError:
        continue
    name = re.sub(r"[-#0-9]+$", "", stat[stat.index("(") + 1:stat.rindex(")")])
    fields = stat[stat.rindex(")") + 2:].split()
    ticks[name] = ticks.get(name, 0) + int(fields[11]) + int(fields[12])
print(json.dumps(ticks))
PY
}

load --hosts 200 --rounds 1 >/dev/null
hz=$(getconf CLK_TCK)
TIMEFORMAT='%U %S'
for mode in "--first-sequence 1000" "--first-sequence 100000 --resume" "--resume --get /healthz"; do
  before=$(threads)
  # bash's `time` on the function: the load generator's user and system seconds.
  # shellcheck disable=SC2086  # the mode is several arguments
  { time load --hosts 200 --seconds "$seconds" $mode > "$state/out"; } 2> "$state/time"
  out=$(cat "$state/out")
  after=$(threads)
  echo "$out"
  python3 - "$before" "$after" "$out" "$(cat "$state/time")" "$hz" <<'PY'
import json, re, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
reports = int(re.search(r"reports=(\d+)", sys.argv[3]).group(1))
user, system = map(float, sys.argv[4].split())
hz = int(sys.argv[5])
per = {name: (after[name] - before.get(name, 0)) * 1e6 / hz / reports for name in after}
per = {name: us for name, us in per.items() if us >= 1}
print("   µs of CPU a report: collector %.0f (%s), load generator %.0f" % (
    sum(per.values()), ", ".join("%s %.0f" % kv for kv in sorted(per.items(), key=lambda kv: -kv[1])),
    (user + system) * 1e6 / reports))
PY
done
