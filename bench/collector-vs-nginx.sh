#!/usr/bin/env bash
# `portwarden serve` (SQLite, the shipped default policy) against nginx on the same
# certificates — mutual TLS with the collector's server.pem/server.key, clients verified
# against ca.pem, a shared session cache, TLS 1.2/1.3, 2 workers, the body read whole and
# answered with a fixed JSON receipt — driven alternately by the same load generator
# (collector-load, 200 hosts, 50-listener ~18 KB snapshots), PAIRS pairs per mode:
#
#   full-handshake  a full mTLS handshake per report, the full snapshot to both
#   changed         one listener moved in every report (the full snapshot): portwarden on
#                   the connection the host's last report left open (--keep, as the
#                   agent's `run` does), nginx on resumed sessions as before
#   unchanged       portwarden gets the small unchanged report on the kept connection,
#                   nginx the full snapshot on resumed sessions, as a collector was sent
#                   before unchanged reports
#
# and, judged against no target, what the targets' references leave out:
#
#   changed-resumed, unchanged-resumed   portwarden on resumed sessions too: a host whose
#                   kept connection the collector closed (keepalive_timeout, or it gave
#                   way to a new one at max_connections)
#   changed-both-kept                    nginx keeping connections as well (keepalive)
#   full-handshake-unchanged             a full handshake, and portwarden gets the small
#                   unchanged report: what an agent whose state did not change sends when
#                   it reconnects (a collector restarted, a session over an hour old)
#
# Prints each pair's rates and ratio (portwarden / nginx) and each mode's median ratio
# beside its target: unchanged ≥ 1.5, changed ≥ 0.9, full handshakes ≥ 0.9. Absolute
# rates depend on the machine (the load generator shares its cores) and are not judged.
# Installs nginx from Debian's packages when it is missing (root).
#
#   bench/collector-vs-nginx.sh [PAIRS=3] [SECONDS=6] [CONCURRENCY=32]
#   MODES="full-handshake full-handshake-unchanged" bench/collector-vs-nginx.sh   (some modes only)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
seconds=${2:-6}
concurrency=${3:-32}

nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx" ]; then
  echo "== installing nginx from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y nginx-light || { apt-get update && apt-get install -y nginx-light; } || apt-get install -y nginx; } >/dev/null
fi

. bench/collector.sh
# The per-host budget is raised: 200 simulated hosts stand for a larger fleet and send
# faster than one host may (the budget's check costs the same either way).
start_collector --policies Policies --host-reports-per-minute 100000
web=$(mktemp -d)
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'kill $server $nginx_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$state" "$web"' EXIT
mkdir -p "$web/root" "$web/temp"
chmod 755 "$web" "$web/root"
# The body is read before the answer: mirror_request_body reads it whole into the
# buffer (a `return` alone would answer first and discard the body as it arrives); the
# mirror's own subrequest is answered at once. The answer comes from a named location
# (the static handler refuses the POST first, with no file lookup logged).
cat > "$web/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $web/nginx.pid;
error_log $web/error.log warn;
$([ "$(id -u)" = 0 ] && echo "user root;")
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $web/temp/body;
  proxy_temp_path $web/temp/proxy;
  fastcgi_temp_path $web/temp/fastcgi;
  uwsgi_temp_path $web/temp/uwsgi;
  scgi_temp_path $web/temp/scgi;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $state/server.pem;
    ssl_certificate_key $state/server.key;
    ssl_client_certificate $state/ca.pem;
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    client_max_body_size 8m;
    client_body_buffer_size 8m;
    root $web/root;
    log_not_found off;
    location / {
      mirror /read-body;
      mirror_request_body on;
      error_page 404 405 =200 @receipt;
    }
    location = /read-body { internal; return 204; }
    location @receipt {
      default_type application/json;
      return 200 '{"outcome":"unchanged","opened":0,"closed":0}';
    }
  }
}
EOF
"$nginx" -p "$web" -c "$web/nginx.conf" -e "$web/error.log" &
nginx_pid=$!
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null && break; sleep 0.1; done
kill -0 "$nginx_pid" 2>/dev/null || { echo "nginx did not start:"; cat "$web/error.log"; exit 3; }

# Every run dates reports now and numbers them past the last run's, so the collector
# takes each; nginx ignores both.
sequence=1
run() {  # run PORT ARGUMENTS…: collector-load's line in $out
  out=$("$bin/collector-load" --state-dir "$state" --port "$1" --concurrency "$concurrency" --hosts 200 --now \
    --first-sequence "$sequence" "${@:2}") || true
  sequence=$((sequence + 1000000))
}
rate() { local r; r=$(sed -nE 's/.*rate=([0-9]+).*/\1/p' <<< "$1"); echo "${r:-0}"; }

run "$port" --rounds 1      # the hosts' first rows
run "$nginx_port" --rounds 1
echo "== $pairs pairs per mode, ${seconds} s each, $concurrency connections at a time, 200 hosts;" \
  "portwarden on 127.0.0.1:$port, nginx on 127.0.0.1:$nginx_port ($("$nginx" -v 2>&1 | sed 's/.*: //'), $(openssl version | cut -d' ' -f1-2))"
modes=${MODES:-"full-handshake changed unchanged changed-resumed unchanged-resumed changed-both-kept full-handshake-unchanged"}
declare -A ratios
for pair in $(seq "$pairs"); do
  for mode in $modes; do
    case $mode in
      full-handshake) ours=(); theirs=() ;;
      changed) ours=(--keep --changing); theirs=(--resume --changing) ;;
      unchanged) ours=(--keep --unchanged); theirs=(--resume) ;;
      changed-resumed) ours=(--resume --changing); theirs=(--resume --changing) ;;
      unchanged-resumed) ours=(--resume --unchanged); theirs=(--resume) ;;
      changed-both-kept) ours=(--keep --changing); theirs=(--keep --changing) ;;
      full-handshake-unchanged) ours=(--unchanged); theirs=() ;;
    esac
    # Alternate which goes first, so a machine warming or cooling favours neither.
    if [ $((pair % 2)) = 1 ]; then
      run "$port" --seconds "$seconds" "${ours[@]}"; a=$out
      run "$nginx_port" --seconds "$seconds" "${theirs[@]}"; b=$out
    else
      run "$nginx_port" --seconds "$seconds" "${theirs[@]}"; b=$out
      run "$port" --seconds "$seconds" "${ours[@]}"; a=$out
    fi
    ratio=$(python3 -c "print(f'{$(rate "$a") / max($(rate "$b"), 1):.2f}')")
    ratios[$mode]="${ratios[$mode]:-} $ratio"
    echo "$mode pair $pair: portwarden $(rate "$a")/s, nginx $(rate "$b")/s, ratio $ratio"
    echo "   portwarden: $a"
    echo "   nginx:      $b"
  done
done

echo "== median ratio, portwarden / nginx"
for mode in $modes; do
  case $mode in
    full-handshake) target=0.9; against="nginx, full handshakes" ;;
    changed) target=0.9; against="nginx resumed, changed reports" ;;
    unchanged) target=1.5; against="nginx resumed, the full snapshot" ;;
    changed-resumed) target=; against="nginx resumed, changed reports (no target: a connection the collector closed)" ;;
    unchanged-resumed) target=; against="nginx resumed, the full snapshot (no target: a connection the collector closed)" ;;
    changed-both-kept) target=; against="nginx keeping connections too, changed reports (no target)" ;;
    full-handshake-unchanged) target=; against="nginx, full handshakes (no target: a reconnecting agent with nothing new)" ;;
  esac
  python3 - "$mode" "$target" "$against" ${ratios[$mode]} <<'PY'
import statistics, sys
mode, target, against, ratios = sys.argv[1], sys.argv[2], sys.argv[3], [float(r) for r in sys.argv[4:]]
median = statistics.median(ratios)
verdict = f"; target ≥ {target} — {'met' if median >= float(target) else 'NOT met'}" if target else ""
print(f"{mode}: {median:.2f} × {against} (pairs: {', '.join(f'{r:.2f}' for r in ratios)}){verdict}")
PY
done
