#!/usr/bin/env bash
# Delivery benchmark for issue 5: end-to-end intake -> http and intake -> postgres at 16
# connections, and the drain rate of a backlog of about 100 000 records for each.
#
#   ./bench/run-delivery.sh [SECONDS]     (default 10 s of load per end-to-end run; about 4 min)
#
# Needs the local PostgreSQL (127.0.0.1:5432, trust auth, database test). Prints one line per
# measurement; record them in BENCHMARKS.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"

# shellcheck source=bench/common.sh
source bench/common.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/mllp-delivery-bench.XXXXXX")
pids=()
table="hl7_bench_$$"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP TABLE IF EXISTS $table" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }

sink=25761
"${java[@]}" -cp "$cp" org.mllpserver.bench.HttpSink "$sink" > "$work/sink.log" 2>&1 &
pids+=($!); wait_for_port "$sink"

port=25762
server_pid=
start_server() { # DATA_DIR-name, then KEY=VALUE...
  local data="$work/$1"; shift
  env DATA_DIR="$data" LISTEN_ADDR="127.0.0.1:$port" LOG_LEVEL=WARNING RETRY_MAX_ATTEMPTS=1000000 "$@" \
    "${java[@]}" -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main > "$work/server-$(date +%s%N).log" 2>&1 &
  server_pid=$!; pids+=("$server_pid"); wait_for_port "$port"
}
stop_server() { kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; }
status() { # DATA_DIR-name, then KEY=VALUE...: the connector's delivered count and backlog bytes
  local data="$work/$1"; shift
  env DATA_DIR="$data" "$@" "${java[@]}" -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main dlq status | awk 'NR==2 { print $2, $6 }'
}
await_drained() { # prints seconds from $1 until the backlog is 0, and the delivered count
  local since=$1; shift
  for _ in $(seq 1 3000); do
    read -r delivered backlog < <(status "$@")
    if [ "$backlog" = "0" ]; then echo "$(awk -v a="$since" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') $delivered"; return; fi
    sleep 0.5
  done
  echo "never drained" >&2; exit 1
}
load() { "${java[@]}" -cp "$cp" org.mllpserver.bench.LoadGenerator --to "127.0.0.1:$port" --connections 16 --seconds "$1" --file test-data/messages/oru_r01.hl7; }

http_env=(CONNECTOR_OUT_TYPE=http "CONNECTOR_OUT_URL=http://127.0.0.1:$sink/hl7")
pg_env=(CONNECTOR_OUT_TYPE=postgres CONNECTOR_OUT_URL=postgres://postgres@127.0.0.1:5432/test "CONNECTOR_OUT_TABLE=$table")

echo "# $(date -u +%FT%TZ) $(nproc) cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
for kind in http postgres; do
  if [ "$kind" = http ]; then e=("${http_env[@]}"); else e=("${pg_env[@]}"); fi
  # End to end: intake at full rate with delivery running alongside.
  start_server "e2e-$kind" "${e[@]}"
  t0=$(now)
  intake=$(load "$seconds")
  read -r took delivered < <(await_drained "$t0" "e2e-$kind" "${e[@]}")
  stop_server
  echo "$kind end-to-end: intake $intake; $delivered delivered in ${took}s from the start of the load: $(awk -v n="$delivered" -v t="$took" 'BEGIN { printf "%.0f", n / t }') msgs/s"
  # Backlog: accept about 100 000 with the downstream unreachable, then restart against it and time the drain.
  if [ "$kind" = http ]; then down=(CONNECTOR_OUT_TYPE=http CONNECTOR_OUT_URL=http://127.0.0.1:1/hl7 RETRY_INITIAL=1h RETRY_MAX_DELAY=1h)
  else down=(CONNECTOR_OUT_TYPE=postgres CONNECTOR_OUT_URL=postgres://postgres@127.0.0.1:1/test "CONNECTOR_OUT_TABLE=$table" RETRY_INITIAL=1h RETRY_MAX_DELAY=1h); fi
  start_server "backlog-$kind" "${down[@]}"
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    read -r _ backlog < <(status "backlog-$kind" "${down[@]}")
    count=$(env DATA_DIR="$work/backlog-$kind" "${java[@]}" -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main journal list | grep -c ' message ' || true)
    [ "$count" -ge 100000 ] && break
    load 3 > /dev/null
  done
  stop_server
  start_server "backlog-$kind" "${e[@]}"
  t0=$(now)
  read -r took delivered < <(await_drained "$t0" "backlog-$kind" "${e[@]}")
  stop_server
  echo "$kind backlog: $count records drained in ${took}s: $(awk -v n="$count" -v t="$took" 'BEGIN { printf "%.0f", n / t }') msgs/s"
done
