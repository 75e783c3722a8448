#!/usr/bin/env bash
# Load benchmark for issue 3: our server (fsync on) against HAPI's SimpleServer (persists nothing),
# same machine, same run, same load generator; plus the disk's own fsync latency.
#
#   ./bench/run-load.sh [SECONDS]        (default 10 s per measurement, after a 3 s warm-up; about 3 min)
#
# Prints one line per measurement; record them in BENCHMARKS.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"

# shellcheck source=bench/common.sh
source bench/common.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/mllp-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

load() { "${java[@]}" -cp "$cp" org.mllpserver.bench.LoadGenerator --to "127.0.0.1:$1" --connections "$2" --seconds "$seconds" --file test-data/messages/oru_r01.hl7; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "# disk under $work: $(df -h "$work" | tail -1 | awk '{print $1, $2}')"
"${java[@]}" -cp "$cp" org.mllpserver.bench.FsyncProbe "$work/probe"

ours=25751
DATA_DIR="$work/data" LISTEN_ADDR="127.0.0.1:$ours" LOG_LEVEL=WARNING "${java[@]}" \
  -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main > "$work/server.log" 2>&1 &
pids+=($!); wait_for_port "$ours"

hapi=25752
mkdir -p "$work/hapi" && (cd "$work/hapi" && exec "${java[@]}" -cp "$OLDPWD/target/test-classes:$OLDPWD/target/classes:$(cat "$OLDPWD/target/test-classpath.txt")" \
  org.mllpserver.bench.HapiSimpleServer "$hapi" > "$work/hapi.log" 2>&1) &
pids+=($!); wait_for_port "$hapi"

msgs_per_s() { sed -n 's/.*msgs\/s=\([0-9]*\).*/\1/p'; }
echo -n "mllp-server (journal, fsync before AA): "; load "$ours" 1
echo -n "HAPI SimpleServer (no persistence):    "; load "$hapi" 1
# The machine is shared and noisy: alternate the two servers over several rounds, report each
# round's ratio and the median.
ratios=()
for round in 1 2 3 4 5; do
  a=$(load "$ours" 16); b=$(load "$hapi" 16)
  echo "round $round mllp-server: $a"
  echo "round $round HAPI:        $b"
  ratios+=("$(awk -v x="$(echo "$a" | msgs_per_s)" -v y="$(echo "$b" | msgs_per_s)" 'BEGIN { printf "%.2f", x / y }')")
done
echo "throughput ratio at 16 connections per round: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 3p)"
