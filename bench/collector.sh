# Sourced by the collector benchmarks: builds the release collector and load generator,
# starts `portwarden serve` on a free loopback port with a throwaway CA, waits until it
# answers, and removes everything at exit. Sets bin, state, port and server; `load ARGS…`
# then runs collector-load against it, `$concurrency` at a time (default 32).
#   start_collector [EXTRA SERVE ARGUMENTS...]   (serve needs --policies DIR or --no-policy among them)
start_collector() {
  swift build -c release --product portwarden >/dev/null
  swift build -c release --product collector-load >/dev/null
  bin=$(swift build -c release --show-bin-path)
  state=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  trap 'kill $server 2>/dev/null || true; rm -rf "$state"' EXIT
  "$bin/portwarden" ca init --state-dir "$state" --name 127.0.0.1 >/dev/null
  "$bin/portwarden" serve --state-dir "$state" --listen "127.0.0.1:$port" "$@" 2>/dev/null &
  server=$!
  for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
}

load() { "$bin/collector-load" --state-dir "$state" --port "$port" --concurrency "${concurrency:-32}" "$@"; }
