#!/usr/bin/env bash
# mllp-server: build when needed and run.
#   ./run.sh              run the server (configured by environment variables; none needed)
#   ./run.sh test         run the whole test suite
#   ./run.sh send FILE... send HL7 messages with the built-in client
#   ./run.sh bench [JMH options]   JMH benchmarks (see BENCHMARKS.md)
#   ./run.sh help         commands and environment variables
set -euo pipefail
cd "$(dirname "$0")"

readonly MIN_JAVA=25
readonly JAR=target/mllp-server.jar

die() { echo "run.sh: $*" >&2; exit 1; }

# The major version of a java binary, or 0 when it cannot be run.
java_major() {
  local v
  v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1)
  echo "${v:-0}"
}

# JAVA_HOME when it is new enough, else the newest JDK under /usr/lib/jvm. Never the default java.
find_java_home() {
  local candidate best="" best_version=0 v
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" && -x "$JAVA_HOME/bin/javac" ]]; then
    v=$(java_major "$JAVA_HOME/bin/java")
    if (( v >= MIN_JAVA )); then echo "$JAVA_HOME"; return; fi
  fi
  for candidate in /usr/lib/jvm/*; do
    [[ -x "$candidate/bin/java" && -x "$candidate/bin/javac" ]] || continue
    v=$(java_major "$candidate/bin/java")
    if (( v >= MIN_JAVA && v > best_version )); then best="$candidate"; best_version=$v; fi
  done
  [[ -n "$best" ]] || die "no JDK ${MIN_JAVA} or newer found (JAVA_HOME or /usr/lib/jvm/*).
Install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or
'apt-get install openjdk-25-jdk', or set JAVA_HOME to a JDK ${MIN_JAVA}+."
  echo "$best"
}

JAVA_HOME=$(find_java_home)
export JAVA_HOME
# Maven's bundled Guava would print sun.misc.Unsafe warnings on JDK 25.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"

mvn_cmd() {
  command -v mvn >/dev/null 2>&1 || die "Apache Maven (mvn) is needed to build: 'apt-get install maven'."
  mvn -B "$@"
}

# Rebuilds when the jar is missing or older than any source file or the pom.
ensure_built() {
  if [[ ! -f "$JAR" ]] || [[ -n "$(find src/main pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    echo "run.sh: building (mvn package, tests skipped)..." >&2
    mvn_cmd -q package -DskipTests
  fi
}

# -XX:+ExitOnOutOfMemoryError: every input that grows with senders is bounded (MAX_INFLIGHT_BYTES,
# the connection ceiling, the journal queue), so running out of heap means a bug. After one, any
# thread may have been cut off halfway through an update, so the process exits (status 3) and its
# supervisor starts it again: nothing acknowledged is lost (AA follows the fsync) and unanswered
# senders send again, where a process limping on could stay up answering nobody.
run_java() {
  exec "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} \
    -cp "$JAR:target/lib/*" org.mllpserver.app.Main "$@"
}

case "${1:-}" in
  test)
    shift
    mvn_cmd verify "$@"
    ;;
  build)
    mvn_cmd -q package -DskipTests
    ;;
  java-home)
    # For scripts (bench/): the JDK this script would use.
    echo "$JAVA_HOME"
    ;;
  bench)
    shift
    mvn_cmd -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
    exec "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow \
      -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" org.openjdk.jmh.Main "$@"
    ;;
  *)
    ensure_built
    run_java "$@"
    ;;
esac
