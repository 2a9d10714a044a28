#!/usr/bin/env bash
# Ingest on PostgreSQL beside SQLite, in the same run on the same machine: one collector
# on SQLite, then two collectors sharing one PostgreSQL (a throwaway cluster, fsync on,
# on the same cores), each driven by collector-load (200 hosts, 50 listeners) with full
# handshakes, with resumed sessions, and with unchanged reports (the digest alone; each
# host's first report of that run is in full) on resumed sessions and on kept
# connections (--keep, as the agent's `run` does). Prints reports/s, p50/p99, and the CPU each
# report cost the collectors and PostgreSQL (utime+stime from /proc); then 1,000
# unchanged hosts reporting for an hour (60 rounds) on PostgreSQL: the database's size
# after the first round and after the last, before and after VACUUM.
#
#   bench/collector-postgres.sh [ROUNDS=10] [CONCURRENCY=32]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
concurrency=${2:-32}
. bench/collector.sh
hz=$(getconf CLK_TCK)

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgdir=$(mktemp -d /tmp/pw-benchpg.XXXXXX)
chmod 755 "$pgdir"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$pgdir"
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
as_postgres "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1" -w start >/dev/null
sql() { as_postgres "$pgbin/psql" -X -q -t -A -h 127.0.0.1 -p "$pgport" -U postgres -d portwarden -c "$1"; }
as_postgres "$pgbin/psql" -X -q -h 127.0.0.1 -p "$pgport" -U postgres -c "CREATE DATABASE portwarden"
database="postgresql://postgres@127.0.0.1:$pgport/portwarden"
servers=()
finish() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  as_postgres "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}

# CPU ticks of the given processes, and of this cluster's postgres processes (its
# postmaster and the backends it forked: other clusters on the machine do not count).
ticks() { python3 - "$pgdir/data/postmaster.pid" "$@" <<'PY'
import os, sys
def stat(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
def t(pid):
    f = stat(pid)
    return int(f[11]) + int(f[12]) if f else 0
try:
    postmaster = open(sys.argv[1]).readline().strip()
except OSError:
    postmaster = None
ours = [p for p in os.listdir("/proc") if p.isdigit() and postmaster
        and (p == postmaster or (stat(p) or [None] * 2)[1] == postmaster)]
print(sum(t(p) for p in sys.argv[2:]), sum(t(p) for p in ours))
PY
}
measure() {  # measure LABEL PIDS -- LOAD ARGUMENTS
  local label=$1; shift
  local pids=()
  while [ "$1" != -- ]; do pids+=("$1"); shift; done
  shift
  read -r c0 p0 < <(ticks "${pids[@]}")
  w0=$(wal)
  out=$("$bin/collector-load" --concurrency "$concurrency" "$@")
  w1=$(wal)
  read -r c1 p1 < <(ticks "${pids[@]}")
  reports=$(sed -E 's/.*reports=([0-9]+).*/\1/' <<< "$out")
  python3 -c "
c, p, n, hz, w = $((c1 - c0)), $((p1 - p0)), max($reports, 1), $hz, $(( w1 - w0 ))
print(f'$label {\"$out\"}  cpu/report: collectors {c / hz / n * 1e3:.2f} ms, postgres {p / hz / n * 1e3:.2f} ms'
      + (f', WAL {w / n:.0f} bytes/report' if '$label' == 'postgres' else ''))"
}
# PostgreSQL's write-ahead log position in bytes (0 before the database exists).
wal() { sql "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint" 2>/dev/null || echo 0; }

echo "== SQLite, one collector"
start_collector --no-policy
trap 'kill $server 2>/dev/null || true; rm -rf "$state"; finish' EXIT
measure sqlite "$server" -- --state-dir "$state" --port "$port" --hosts 200 --rounds 1 >/dev/null
measure sqlite "$server" -- --state-dir "$state" --port "$port" --hosts 200 --rounds "$rounds" --first-sequence 1000
measure sqlite "$server" -- --state-dir "$state" --port "$port" --hosts 200 --rounds "$rounds" --first-sequence 100000 --resume
measure sqlite "$server" -- --state-dir "$state" --port "$port" --hosts 200 --rounds "$rounds" --first-sequence 200000 --resume --unchanged
measure sqlite "$server" -- --state-dir "$state" --port "$port" --hosts 200 --rounds "$rounds" --first-sequence 300000 --keep --unchanged
kill "$server"

echo "== PostgreSQL, two collectors on one database"
"$bin/portwarden" ca init --state-dir "$state" --database "$database" --name 127.0.0.1 >/dev/null 2>&1 || true
ports=()
for _ in 1 2; do
  p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$bin/portwarden" serve --state-dir "$state" --database "$database" --listen "127.0.0.1:$p" --no-policy 2>/dev/null &
  servers+=($!)
  ports+=("$p")
  for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
done
both="${ports[0]},${ports[1]}"
measure postgres "${servers[@]}" -- --state-dir "$state" --ports "$both" --hosts 200 --rounds 1 >/dev/null
measure postgres "${servers[@]}" -- --state-dir "$state" --ports "$both" --hosts 200 --rounds "$rounds" --first-sequence 1000
measure postgres "${servers[@]}" -- --state-dir "$state" --ports "$both" --hosts 200 --rounds "$rounds" --first-sequence 100000 --resume
measure postgres "${servers[@]}" -- --state-dir "$state" --ports "$both" --hosts 200 --rounds "$rounds" --first-sequence 200000 --resume --unchanged
measure postgres "${servers[@]}" -- --state-dir "$state" --ports "$both" --hosts 200 --rounds "$rounds" --first-sequence 300000 --keep --unchanged

echo "== PostgreSQL: 1,000 unchanged hosts, one report a minute for an hour (60 rounds)"
size() { sql "SELECT pg_database_size('portwarden')"; }
"$bin/collector-load" --state-dir "$state" --ports "$both" --hosts 1000 --rounds 1 --first-sequence 1 --concurrency "$concurrency" >/dev/null
before=$(size)
"$bin/collector-load" --state-dir "$state" --ports "$both" --hosts 1000 --rounds 59 --first-sequence 2 --concurrency "$concurrency" | sed 's/^/   /'
after=$(size)
sql "VACUUM" >/dev/null
vacuumed=$(size)
echo "database: $before bytes after the first round, $after after 60 rounds, $vacuumed after VACUUM"
echo "bytes per row (table and its indexes): $(sql "SELECT string_agg(t || ' ' || coalesce(pg_total_relation_size(t::regclass) / nullif(n, 0), 0), ', ')
  FROM (VALUES ('host', (SELECT count(*) FROM host)), ('receiptrun', (SELECT count(*) FROM receiptRun)),
               ('listenerinterval', (SELECT count(*) FROM listenerInterval))) AS v(t, n)")"
echo "rows: $(sql "SELECT (SELECT count(*) FROM receiptRun) || ' receipt runs, ' || (SELECT count(*) FROM listenerInterval) || ' listener intervals'")"
