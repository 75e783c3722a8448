package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server as an operator runs it: a child JVM, configured by its environment, stopped by signals. */
class ServerProcessTest {

    private static final Pattern ACCEPTING = Pattern.compile("accepting on /127\\.0\\.0\\.1:(\\d+)");
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Test
    void servesThenDrainsAndExitsZeroOnSigterm() throws Exception {
        try (Child child = Child.start(Map.of("LISTEN_ADDR", "127.0.0.1:0", "DRAIN_TIMEOUT", "10s"))) {
            int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
            try (MllpClient client = client(port); Socket idle = new Socket(InetAddress.getLoopbackAddress(), port)) {
                Hl7Text ack = Hl7Text.of(client.exchange(adt("PROC-1")));
                assertEquals("AA", ack.ackCode());
                assertEquals("PROC-1", ack.acknowledgedId());
                child.awaitLine(Pattern.compile("connection 2 from .* opened"));
                idle.setSoTimeout((int) PATIENCE.toMillis());
                long started = System.nanoTime();
                child.process.toHandle().destroy(); // SIGTERM (Process.destroy() would also close our end of its output)
                assertEquals(-1, idle.getInputStream().read(), "an idle connection is closed by the drain");
                assertTrue(child.process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS), "exited");
                assertEquals(0, child.process.exitValue(), child.output());
                assertTrue(Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(10)) < 0,
                        "no frame in flight, so no reason to wait for DRAIN_TIMEOUT");
                child.awaitLine(Pattern.compile("stopped"));
            }
        }
    }

    @Test
    void badConfigurationStopsTheServerWithEveryProblemAndExitCode2() throws Exception {
        try (Child child = Child.start(Map.of("LISTEN_ADDR", "nowhere", "IDLE_TIMEOUT", "abc", "MAX_FRAME_SIZE", "10",
                "ERROR_ACK_CODE", "XX"))) {
            assertTrue(child.process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
            assertEquals(2, child.process.exitValue());
            child.awaitLine(Pattern.compile("4 configuration problem"));
            for (String variable : List.of("LISTEN_ADDR='nowhere'", "IDLE_TIMEOUT='abc'", "MAX_FRAME_SIZE='10'", "ERROR_ACK_CODE='XX'")) {
                child.awaitLine(Pattern.compile(Pattern.quote(variable)));
            }
        }
    }

    @Test
    void aPortInUseIsAClearStartupErrorWithExitCode1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Child child = Child.start(Map.of("LISTEN_ADDR", "127.0.0.1:" + taken.getLocalPort()))) {
            assertTrue(child.process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
            assertEquals(1, child.process.exitValue());
            child.awaitLine(Pattern.compile("cannot listen on LISTEN_ADDR=127\\.0\\.0\\.1:" + taken.getLocalPort()));
        }
    }

    // --- helpers -------------------------------------------------------------------------

    static byte[] adt(String controlId) {
        return ("MSH|^~\\&|TEST|TEST|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|P|2.5\r"
                + "EVN|A01|20260101120000\rPID|1||42^^^TEST^MR||Test^Patient\rPV1|1|I\r").getBytes(StandardCharsets.US_ASCII);
    }

    private static MllpClient client(int port) throws IOException {
        return MllpClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), Duration.ofSeconds(5),
                Duration.ofSeconds(10), 1 << 20);
    }

    /** The server's Main in a child JVM with exactly the given environment; stderr is collected line by line. */
    static final class Child implements AutoCloseable {
        final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> seen = new ArrayList<>();

        private Child(Process process) {
            this.process = process;
            Thread.ofVirtual().start(() -> {
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = reader.readLine()) != null; ) lines.add(line);
                } catch (IOException ignored) {
                    // the child is gone; what it wrote is in the queue
                }
            });
        }

        static Child start(Map<String, String> env, String... args) throws IOException {
            return start(List.of(), env, args);
        }

        /** As above, with options for the child JVM (e.g. {@code -Xmx256m}). */
        static Child start(List<String> jvmOptions, Map<String, String> env, String... args) throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = new ArrayList<>(List.of(java, "--sun-misc-unsafe-memory-access=allow"));
            command.addAll(jvmOptions);
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
            command.addAll(List.of(args));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().clear();
            if (!env.containsKey("DATA_DIR")) builder.environment().put("DATA_DIR", Files.createTempDirectory("mllp-child-").toString());
            builder.environment().put("ADMIN_ADDR", "127.0.0.1:0"); // never the default 8080, which something else may hold
            builder.environment().putAll(env);
            return new Child(builder.start());
        }

        /** Waits (bounded) for an output line matching {@code pattern}; lines already seen count too. */
        Matcher awaitLine(Pattern pattern) throws InterruptedException {
            for (String line : seen) {
                Matcher m = pattern.matcher(line);
                if (m.find()) return m;
            }
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (true) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) throw new AssertionError("no line matching " + pattern + " in:\n" + output());
                seen.add(line);
                Matcher m = pattern.matcher(line);
                if (m.find()) return m;
            }
        }

        String output() {
            lines.drainTo(seen);
            return String.join("\n", seen);
        }

        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
