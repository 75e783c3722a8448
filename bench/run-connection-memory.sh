#!/usr/bin/env bash
# Heap per open connection: starts the server, measures the heap in use after a full GC, opens N
# connections that have each sent one message and now wait idle, measures again.
#
#   ./bench/run-connection-memory.sh [N] [tls]     (default 4000 plain connections; about 1 min)
#
# Prints the heap before and after and the bytes per connection; record them in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-4000}"
mode="${2:-plain}"

# shellcheck source=bench/common.sh
source bench/common.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/mllp-bench.XXXXXX")
pids=()
cleanup() { exec 4>&- 2>/dev/null || true; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

port=25753
tls_env=()
tls_client=()
if [[ "$mode" == tls ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
  tls_env=(TLS_CERT_FILE="$work/cert.pem" TLS_KEY_FILE="$work/key.pem")
  tls_client=(--tls-ca "$work/cert.pem")
fi
env "${tls_env[@]}" DATA_DIR="$work/data" LISTEN_ADDR="127.0.0.1:$port" ADMIN_ADDR=off LOG_LEVEL=WARNING "${java[@]}" -Xmx1g \
  -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main > "$work/server.log" 2>&1 &
server=$!
pids+=($server); wait_for_port "$port"

heap_used_kib() { "$JAVA_HOME/bin/jcmd" "$server" GC.run >/dev/null; "$JAVA_HOME/bin/jcmd" "$server" GC.heap_info | sed -n 's/.* used \([0-9]*\)K.*/\1/p' | head -1; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1), $count $mode connections"
before=$(heap_used_kib)
mkfifo "$work/hold"
"${java[@]}" -cp "$cp" org.mllpserver.bench.IdleConnections --to "127.0.0.1:$port" --connections "$count" "${tls_client[@]}" \
  < "$work/hold" > "$work/idle.out" &
pids+=($!)
exec 4> "$work/hold"
for _ in $(seq 1 600); do grep -q "^open" "$work/idle.out" 2>/dev/null && break; sleep 0.2; done
grep -q "^open" "$work/idle.out" || { echo "the connections did not open" >&2; exit 1; }
after=$(heap_used_kib)
echo "heap used after a full GC: ${before} KiB before, ${after} KiB with $count idle $mode connections:" \
  "$(( (after - before) * 1024 / count )) bytes per connection"
