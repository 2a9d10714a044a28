#!/usr/bin/env bash
# Fuzzes the parsers that read what the agent and the collector did not write: the
# /proc net tables, /proc/PID/{status,cmdline,cgroup}, the wire-format decoder, the
# policy loader and the agent's reader of the collector's HTTP responses — libFuzzer
# with AddressSanitizer (swiftc -sanitize=fuzzer,address).
#
#   fuzz/run.sh [RUNS|SECONDSs] [HARNESS...]    default: 20000 runs each, every harness
#   fuzz/run.sh 1000000                         a million inputs each
#   fuzz/run.sh 300s wire-snapshot              five minutes of one
#   FUZZ_CONFIGURATION=release fuzz/run.sh 1000000   the same, optimized: faster per input
#
# The modules are built instrumented by SwiftPM into .build/fuzz, the harnesses in
# fuzz/harnesses/ linked against them. Each harness starts from fuzz/seeds/NAME and keeps
# what it learns in .build/fuzz/corpus/NAME; a crash or a hang (5 s on one input) stops
# the script with status 1 and leaves the input in .build/fuzz/artifacts/NAME/.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-20000}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(net-table process-files wire-snapshot policy http-response http-request)
case "$budget" in
  *s) limit=(-max_total_time="${budget%s}" -runs=-1) ;;
  *) limit=(-runs="$budget") ;;
esac

scratch=.build/fuzz
mkdir -p "$scratch"
# One -sanitize=fuzzer,address: SwiftPM's `--sanitize fuzzer --sanitize address` passes two
# flags and swiftc keeps only the last, which leaves the code without coverage counters.
# FUZZ_CONFIGURATION=release (optimized, still instrumented) runs several times faster
# once built; debug builds sooner, which suits CI's short pass.
configuration=${FUZZ_CONFIGURATION:-debug}
# -enable-testing: the request-path harness reaches the collector's internal handlers
# (@testable import); every build passes it, so no module is rebuilt for another's flags.
build() {
  swift build -c "$configuration" --scratch-path "$scratch" --target "$1" -Xswiftc -sanitize=fuzzer,address \
    -Xswiftc -enable-testing -Xcc -fsanitize=fuzzer-no-link,address >"$scratch/build.log" 2>&1 \
    || { cat "$scratch/build.log"; exit 1; }
}
build ProcFS
build Policy  # and ConfigFile, StateFiles, OpenSSLCrypto, PortwardenModel, Yams
build CollectorClient  # and OpenSSLTLS, OpenSSLCrypto, StateFiles
if [[ " ${harnesses[*]} " == *" http-request "* ]]; then
  build CollectorServer  # and the store, NIO, GRDB: the whole collector but its commands
  build NIOEmbedded
fi
lib="$scratch/$configuration"
objects() { for module in "$@"; do ls "$lib/$module.build"/*.o "$lib/$module.build"/src/*.o 2>/dev/null || true; done; }
# Every module built here: only libraries are, so no second main() comes along.
built() {
  for dir in "$lib"/*.build; do
    if compgen -G "$dir/*.o" >/dev/null || compgen -G "$dir/src/*.o" >/dev/null; then basename "$dir" .build; fi
  done
}

bin="$scratch/bin-$configuration"
mkdir -p "$bin"
for name in "${harnesses[@]}"; do
  case "$name" in
    net-table|process-files) modules=(ProcFS CLinuxShims PortwardenModel CVersion) ;;
    wire-snapshot) modules=(PortwardenModel CVersion) ;;
    policy) modules=(Policy ConfigFile StateFiles OpenSSLCrypto PortwardenModel CVersion Yams CYaml) ;;
    http-response) modules=(CollectorClient OpenSSLTLS OpenSSLCrypto StateFiles PortwardenModel CVersion) ;;
    http-request) mapfile -t modules < <(built) ;;
    *) echo "no harness $name (net-table, process-files, wire-snapshot, policy, http-response, http-request)" >&2; exit 2 ;;
  esac
  # The C modules the imported Swift modules were built against: SwiftPM's generated maps,
  # and the system libraries' own.
  maps=()
  for map in "$lib"/*.build/module.modulemap Sources/COpenSSL/module.modulemap Sources/CZlib/module.modulemap Sources/CLibPQ/module.modulemap \
             "$scratch"/checkouts/{Yams/Sources/CYaml,swift-atomics/Sources/_AtomicsShims,swift-nio/Sources/CNIOWindows}/include/module.modulemap \
             "$scratch"/checkouts/GRDB.swift/Sources/GRDBSQLite/module.modulemap; do
    [ -f "$map" ] && maps+=(-Xcc -fmodule-map-file="$map")
  done
  mapfile -t linked < <(objects "${modules[@]}")  # some object names hold spaces
  swiftc -sanitize=fuzzer,address -parse-as-library -module-name "Fuzz${name//-/}" -I "$lib/Modules" \
    "${maps[@]}" -Xcc -ISources/CLinuxShims/include $(pkg-config --cflags-only-I libpq | sed 's/-I/-Xcc -I/g') \
    -lssl -lcrypto -lsqlite3 -lz -lpq \
    -use-ld=lld "fuzz/harnesses/$name.swift" "${linked[@]}" -o "$bin/$name"
done

failed=0
for name in "${harnesses[@]}"; do
  corpus="$scratch/corpus/$name" artifacts="$scratch/artifacts/$name/"
  mkdir -p "$corpus" "$artifacts"
  log="$scratch/$name.log"
  if "$bin/$name" "${limit[@]}" -timeout=5 -max_len=16384 -print_final_stats=1 \
       -artifact_prefix="$artifacts" "$corpus" "fuzz/seeds/$name" >"$log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    seconds=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' || echo "?")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
    echo "ok: $name: $runs inputs in ${seconds} s, 0 crashes, 0 hangs, coverage $cov, corpus $(ls "$corpus" | wc -l)"
  else
    echo "FAILED: $name: a crash or a hang; the input is in $artifacts, the log in $log"
    grep -E 'ERROR|Fatal error|Precondition|deadly signal|timeout' "$log" | head -5
    failed=1
  fi
done
exit "$failed"
