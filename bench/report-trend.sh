#!/usr/bin/env bash
# Times `portwarden report trend --since 90d` in every format over a generated history:
# 10,000 hosts, 90 days, ~50 listeners each with 1% replaced daily, a receipt run per
# change, 300 legacy-port exposures (with findings) opening and resolving, 1% of hosts
# silent near the end — written through the store's import API by history-generator.
#
#   bench/report-trend.sh [HOSTS=10000] [DAYS=90] [EXPOSURES=300]
#
# Target (release build): < 2 s per format; memory bounded (peak RSS printed).
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-10000}
days=${2:-90}
exposures=${3:-300}
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
swift build -c release --product portwarden >/dev/null
swift build -c release --product history-generator >/dev/null
bin=$(swift build -c release --show-bin-path)
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
"$bin/history-generator" "$state/portwarden.sqlite" "$hosts" "$days" "$exposures" 2026-11-25
echo "database: $(du -h "$state/portwarden.sqlite" | cut -f1)"
for format in table json csv markdown html; do
  /usr/bin/time -f "report trend --since ${days}d --format $format: %e s, peak RSS %M KiB" \
    "$bin/portwarden" report trend --state-dir "$state" --since "${days}d" --until 2026-11-25T00:00:00Z --format "$format" \
    --output "$state/trend.$format"
done
/usr/bin/time -f "report trend --since ${days}d --by rule --format json: %e s, peak RSS %M KiB" \
  "$bin/portwarden" report trend --state-dir "$state" --since "${days}d" --until 2026-11-25T00:00:00Z --by rule --format json \
  --output "$state/trend-by-rule.json"
echo "== the table's head"
head -8 "$state/trend.table"
