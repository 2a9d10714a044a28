#!/usr/bin/env bash
# Peak RSS of `portwarden-agent run --once` (release, as shipped: scripts/build-agent)
# when an unprivileged process inflates the host's report, against a `portwarden serve`
# on loopback. The unit (Agent/portwarden-agent.service) has MemoryMax=64M: target well
# under it.
#
#   bench/agent-rss.sh [LISTENERS] [SPOOLED] [CHILDREN]
#       default: 4000 listeners, 20 spooled files, 255 children
#   AGENT=path bench/agent-rss.sh …   measures that agent binary instead (an older build)
#
# Four cases, each printed with its peak RSS (GNU time's %M):
#   forked-holders  a `nobody` process holding LISTENERS loopback listeners that forks
#                 CHILDREN children inheriting them (LISTENERS × (CHILDREN + 1) socket
#                 descriptors): `scan --format json` (its output's size too) and
#                 `run --once`; the report lists at most WireLimits.ownersPerReport owners
#   big-process   a `nobody` process with a 1 MiB command line (8 arguments of 128 KiB)
#                 holding LISTENERS sockets: the scan's report is trimmed to the 4 MiB
#                 snapshot bound before it is spooled, then delivered
#   full-spool    SPOOLED spooled snapshots of ~4 MiB each (1,000 listeners, 4 KiB
#                 command lines: the largest a bounded scan writes), each decoded before
#                 it is sent
#   full-spool-413  the same against a collector with --max-report-bytes 1048576: each
#                 refused (413), trimmed to the limit it states, sent again
# Needs root (the agent reads every process; the big process runs as nobody) and
# /usr/bin/python3 (the big process, as nobody, must be able to run it).
set -euo pipefail
cd "$(dirname "$0")/.."
listeners=${1:-4000}
spooled=${2:-20}
children=${3:-255}
agent=${AGENT:-$(scripts/build-agent)}
swift build --product portwarden >&2
portwarden="$(swift build --show-bin-path)/portwarden"
work=$(mktemp -d /tmp/pw-agent-rss.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() {  # serve PORT [ARGS...]: in the background, once it answers
  local p=$1; shift
  "$portwarden" serve --state-dir "$work/collector" --listen "127.0.0.1:$p" "$@" >/dev/null 2>&1 &
  server=$!
  pids+=("$server")
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return; sleep 0.1; done
  echo "serve did not start" >&2; exit 1
}
scan() {  # scan NAME: one scan --format json, its exit status, output size and peak RSS
  local status=0
  /usr/bin/time -f "%M" -o "$work/rss" "$agent" scan --format json 2>"$work/$1.log" | wc -c >"$work/$1.bytes" || status=$?
  echo "$1 scan: exit $status, $(($(cat "$work/$1.bytes") / 1024)) KiB of JSON, peak RSS $(($(tail -1 "$work/rss") / 1024)) MiB ($(tail -1 "$work/rss") KiB)"
}
measure() {  # measure NAME: one run --once, its exit status and peak RSS
  local status=0
  /usr/bin/time -f "%M" -o "$work/rss" "$agent" run --once --config "$work/agent.yaml" >"$work/$1.log" 2>&1 || status=$?
  [ "$status" = 0 ] || tail -3 "$work/$1.log" >&2
  echo "$1: exit $status, peak RSS $(($(tail -1 "$work/rss") / 1024)) MiB ($(tail -1 "$work/rss") KiB)"
  grep -oE '(spooled trimmed|sent trimmed after a 413|delivered).{0,130}' "$work/$1.log" | sed -E 's/snapshot [0-9]+/snapshot N/' \
    | sort | uniq -c | sed 's/^/  /' || true
}

"$portwarden" ca init --state-dir "$work/collector" --name 127.0.0.1 >/dev/null
"$portwarden" enroll secret --state-dir "$work/collector" >"$work/enroll.secret"
p=$(port)
serve "$p" --no-policy
printf 'collector: 127.0.0.1:%s\nstate_dir: %s/agent\n' "$p" "$work" >"$work/agent.yaml"
"$agent" enroll --config "$work/agent.yaml" --secret-file "$work/enroll.secret" \
  --ca-file "$work/collector/ca.pem" --name rss-host >/dev/null

# The forked holders: LISTENERS loopback listeners, then CHILDREN forks holding them all,
# as nobody (the attacker's program, in Python). Each child dies with its parent.
(ulimit -n $((listeners + 64)); exec setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import ctypes, os, signal, socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); held.append(s)
libc = ctypes.CDLL(None)
for _ in range(int(sys.argv[2])):
    if os.fork() == 0:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        signal.pause()
        os._exit(0)
print("ready", flush=True)
signal.pause()' "$listeners" "$children") >"$work/forked.out" &
forked=$!
pids+=("$forked")
for _ in $(seq 300); do grep -q ready "$work/forked.out" 2>/dev/null && break; sleep 0.1; done
echo "a nobody process with $listeners listeners and $(pgrep -c -P "$forked") children holding them"
scan forked-holders
measure forked-holders
kill -9 "$forked"; wait "$forked" 2>/dev/null || true

# The big process: 8 × 128 KiB of arguments, LISTENERS loopback sockets, as nobody.
big=$(python3 -c 'print(("A" * 131000 + " ") * 8)')
# shellcheck disable=SC2086
(ulimit -n $((listeners + 64)); exec setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, sys, time
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); held.append(s)
print("ready", flush=True)
time.sleep(3600)' "$listeners" $big) >"$work/big.out" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/big.out" 2>/dev/null && break; sleep 0.1; done
echo "a nobody process with a $(( $(tr '\0' '\n' </proc/$!/cmdline | wc -c) / 1024 )) KiB command line and $listeners listeners"

measure big-process
kill "$server"; wait "$server" 2>/dev/null || true

# A spool of large snapshots, as an agent writes them while the collector is away:
# SPOOLED of them from sequence $1 on.
spool() {
  python3 - "$work/agent/spool" "$1" "$spooled" <<'EOF'
import json, sys, time
spool, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# Now: the collector writes a host's history forwards only, after the reports above.
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
for n in range(first, first + count):
    owner = lambda i: {"pid": 100000 + i, "name": "worker", "exe": "/usr/bin/worker", "cmdline": ["worker", "x" * 4000],
                       "uid": 65534, "user": "nobody", "unit": None, "container": None}
    listeners = [{"protocol": "tcp", "family": "ipv4", "address": "127.0.0.1", "port": 20000 + i, "scope": "loopback",
                  "netns": 1, "host_netns": True, "inode": n * 10000 + i, "uid": 65534, "processes": [owner(i)],
                  "owner_note": None, "found_by": "procfs"} for i in range(1000)]
    snapshot = {"schema": 1, "host": {"hostname": "rss-host", "machine_id": "m", "boot_id": "bench", "kernel": None,
                "os": None, "labels": None}, "sequence": n, "collected_at": now, "complete": True,
                "ownership_complete": True, "warnings": [], "namespaces": [], "listeners": listeners, "unresolved": []}
    with open(f"{spool}/{n:020d}.json", "w") as f:
        json.dump(snapshot, f, separators=(",", ":"))
EOF
  echo $(($1 + 1000)) >"$work/agent/sequence"
  echo "spool: $spooled files of $(stat -c %s "$work/agent/spool/$(printf %020d "$1").json") bytes"
}
spool 1000
p=$(port)
sed -i "s/127.0.0.1:[0-9]*/127.0.0.1:$p/" "$work/agent.yaml"
serve "$p" --no-policy
measure full-spool
kill "$server"; wait "$server" 2>/dev/null || true

# The same against a collector whose limit is 1 MiB: each refused (413), decoded,
# trimmed to the limit it states, and sent again.
spool 3000
# A new collector: the last one's Retry-After (its byte budget) is not this one's.
rm -f "$work/agent/spool/paused-until"
p=$(port)
sed -i "s/127.0.0.1:[0-9]*/127.0.0.1:$p/" "$work/agent.yaml"
serve "$p" --no-policy --max-report-bytes 1048576
measure full-spool-413
