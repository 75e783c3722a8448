#!/usr/bin/env bash
# Issue 10: what metrics and the audit trail cost the intake. This tree's server (metrics recorded,
# every frame audited: hashed, written, forced) against the same server built from BASE, the
# commit just before they were wired in (events go nowhere), same machine, same run, same load
# generator, ORU^R01 at 16 connections, rounds alternated.
#
#   ./bench/run-observability.sh [SECONDS] [BASE]     (default 10 s per measurement, BASE 6e44c8e; about 5 min)
#
# Prints one line per measurement; record them in BENCHMARKS.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
base="${2:-6e44c8e}"

# shellcheck source=bench/common.sh
source bench/common.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/mllp-bench-obs.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  git worktree remove --force "$work/base" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach "$work/base" "$base" >/dev/null 2>&1
(cd "$work/base" && MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow" mvn -B -q package -DskipTests >/dev/null)

load() { "${java[@]}" -cp "$cp" org.mllpserver.bench.LoadGenerator --to "127.0.0.1:$1" --connections "$2" --seconds "$seconds" --file test-data/messages/oru_r01.hl7; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "# this tree: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (with uncommitted changes)'); off: $base"

on=25761
DATA_DIR="$work/on" LISTEN_ADDR="127.0.0.1:$on" ADMIN_ADDR="127.0.0.1:25763" LOG_LEVEL=WARNING "${java[@]}" \
  -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main > "$work/on.log" 2>&1 &
pids+=($!); on_pid=$!; wait_for_port "$on"

off=25762
DATA_DIR="$work/off" LISTEN_ADDR="127.0.0.1:$off" ADMIN_ADDR=off LOG_LEVEL=WARNING "${java[@]}" \
  -cp "$work/base/target/mllp-server.jar:$work/base/target/lib/*" org.mllpserver.app.Main > "$work/off.log" 2>&1 &
pids+=($!); off_pid=$!; wait_for_port "$off"

msgs_per_s() { sed -n 's/.*msgs\/s=\([0-9]*\).*/\1/p'; }
messages() { sed -n 's/.* messages=\([0-9]*\).*/\1/p'; }
# The server process's CPU time (user + system, clock ticks): the machine is noisy, CPU per message less so.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Runs one measurement against a server; prints the load generator's line and the server's CPU µs per message.
measure() {
  local port=$1 pid=$2 before after line
  before=$(cpu_ticks "$pid"); line=$(load "$port" 16); after=$(cpu_ticks "$pid")
  echo "$line cpu_us_per_msg=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$(echo "$line" | messages)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
}
cpu_us() { sed -n 's/.*cpu_us_per_msg=\([0-9.]*\).*/\1/p'; }
load "$on" 16 >/dev/null; load "$off" 16 >/dev/null # warm-up of both
ratios=(); cpu=()
for round in 1 2 3 4 5 6 7; do
  a=$(measure "$on" "$on_pid"); b=$(measure "$off" "$off_pid")
  echo "round $round metrics+audit on:  $a"
  echo "round $round both off:          $b"
  ratios+=("$(awk -v x="$(echo "$a" | msgs_per_s)" -v y="$(echo "$b" | msgs_per_s)" 'BEGIN { printf "%.3f", x / y }')")
  cpu+=("$(awk -v x="$(echo "$a" | cpu_us)" -v y="$(echo "$b" | cpu_us)" 'BEGIN { printf "%.3f", x / y }')")
done
echo "throughput on/off per round: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 4p)"
echo "server CPU per message on/off per round: ${cpu[*]}; median $(printf '%s\n' "${cpu[@]}" | sort -n | sed -n 4p)"
accepted=$(curl -s "127.0.0.1:25763/metrics" | sed -n 's/^mllp_server_messages_total{ack_code="AA",msg_type="ORU"[^}]*} //p')
echo "on: mllp_server_messages_total{ack_code=AA,msg_type=ORU} = ${accepted:-?}; audit: $(du -sh "$work/on/audit" | cut -f1) in DATA_DIR/audit"
