#!/usr/bin/env bash
# Load benchmark for issue 3: our server (fsync on) against HAPI's SimpleServer (persists nothing),
# same machine, same run, same load generator; plus the disk's own fsync latency.
#
#   ./bench/run-load.sh [SECONDS]        (default 10 s per measurement, after a 3 s warm-up)
#
# Prints one line per measurement; record them in BENCHMARKS.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"

./run.sh build >/dev/null
# The benchmark classes (load generator, HAPI baseline, fsync probe) live with the test sources.
source <(sed -n '/^java_major()/,/^}/p; /^find_java_home()/,/^}/p; /^die()/p' run.sh)
readonly MIN_JAVA=25
JAVA_HOME=$(find_java_home)
MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow" mvn -B -q test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
cp="target/test-classes:target/classes:$(cat target/test-classpath.txt)"
java=("$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow)

work=$(mktemp -d "${TMPDIR:-/tmp}/mllp-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

wait_for_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
load() { "${java[@]}" -cp "$cp" org.mllpserver.bench.LoadGenerator --to "127.0.0.1:$1" --connections "$2" --seconds "$seconds" --file test-data/messages/oru_r01.hl7; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "# disk under $work: $(df -h "$work" | tail -1 | awk '{print $1, $2}')"
"${java[@]}" -cp "$cp" org.mllpserver.bench.FsyncProbe "$work/probe"

port=25751
DATA_DIR="$work/data" LISTEN_ADDR="127.0.0.1:$port" LOG_LEVEL=WARNING "${java[@]}" \
  -cp "target/mllp-server.jar:target/lib/*" org.mllpserver.app.Main > "$work/server.log" 2>&1 &
pids+=($!); wait_for_port "$port"
for c in 1 16; do echo -n "mllp-server (journal, fsync before AA): "; load "$port" "$c"; done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

port=25752
mkdir -p "$work/hapi" && (cd "$work/hapi" && exec "${java[@]}" -cp "$OLDPWD/target/test-classes:$OLDPWD/target/classes:$(cat "$OLDPWD/target/test-classpath.txt")" \
  org.mllpserver.bench.HapiSimpleServer "$port" > "$work/hapi.log" 2>&1) &
pids+=($!); wait_for_port "$port"
for c in 1 16; do echo -n "HAPI SimpleServer (no persistence):    "; load "$port" "$c"; done
