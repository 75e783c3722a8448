#!/usr/bin/env bash
# Start-up over a large retained journal, with and without the checkpoint (issue 20).
#
#   ./bench/run-startup.sh [MESSAGES]      (default 5 000 000; about 2 GB of journal, a few minutes)
#
# Fills a journal with MESSAGES accepted messages (JournalFiller), then starts the server on it
# three times: the first reads the whole journal and writes a checkpoint when stopped; the second
# starts from that checkpoint; the third again without it (the file removed). Prints, for each,
# the time from launching the JVM to the listener accepting, and the server's own "ready in" line.
set -euo pipefail
cd "$(dirname "$0")/.."
messages="${1:-5000000}"

# shellcheck source=bench/common.sh
source bench/common.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/mllp-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(nproc) cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1), $messages messages"
"${java[@]}" -cp "$cp" org.mllpserver.bench.JournalFiller "$work/data/journal" "$messages"
echo "# journal: $(du -sh "$work/data/journal" | cut -f1)"

port=25754
start_once() {
  local label=$1
  local t0 t1
  t0=$(date +%s%N)
  DATA_DIR="$work/data" LISTEN_ADDR="127.0.0.1:$port" ADMIN_ADDR=off "${java[@]}" \
    -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main > "$work/server.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  wait_for_port "$port"
  t1=$(date +%s%N)
  for _ in $(seq 1 100); do grep -q 'ready in' "$work/server.log" && break; sleep 0.1; done
  echo "$label: accepting $(( (t1 - t0) / 1000000 )) ms after launch; $(grep -o 'ready in .*' "$work/server.log" | head -1);" \
    "$(grep -o 'journal: [0-9]* record(s) read at start.*' "$work/server.log" | head -1)"
  kill -TERM "$pid"
  wait "$pid" || true
  grep -o 'checkpoint at journal position [0-9]* written in [0-9]* ms' "$work/server.log" | tail -1 | sed 's/^/  at its stop: /' || true
}

start_once "first start (no checkpoint yet)"
start_once "with the checkpoint written at the clean stop"
rm "$work/data/checkpoint"
start_once "checkpoint removed"
