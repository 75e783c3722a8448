# Sourced by the bench/run-*.sh scripts: builds the server and the benchmark classes (they live
# with the test sources), and sets JAVA_HOME, $cp (the test class path) and $java.
./run.sh build >/dev/null
JAVA_HOME=$(./run.sh java-home)
export JAVA_HOME
MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow" mvn -B -q test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
cp="target/test-classes:target/classes:$(cat target/test-classpath.txt)"
java=("$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow)
wait_for_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
