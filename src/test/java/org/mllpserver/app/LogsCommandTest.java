package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.testing.TestServer;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./run.sh logs} against a real server's control socket. */
class LogsCommandTest {

    private static final System.Logger LOG = System.getLogger(LogsCommandTest.class.getName());

    private static String run(Map<String, String> env, int expectedExit, String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int code = Main.run(args, env, out, out);
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, code, text);
        return text;
    }

    @Test
    void showsTheRecentLinesByLevelAndRefusesBadArguments() throws Exception {
        try (TestServer server = TestServer.start("LOG_BUFFER_LINES", "50")) {
            Map<String, String> env = Map.of("DATA_DIR", server.dataDir().toString());
            String marker = "logs-test-warning-" + System.nanoTime();
            LOG.log(System.Logger.Level.WARNING, marker);
            String all = run(env, 0, "logs");
            assertTrue(all.contains("listener accepting on"), all);
            assertTrue(all.contains(marker), all);
            assertTrue(all.lines().count() <= 50, "no more than LOG_BUFFER_LINES");

            String warnings = run(env, 0, "logs", "--level", "WARNING");
            assertTrue(warnings.contains(marker), warnings);
            assertFalse(warnings.contains(" INFO "), warnings);
            assertEquals(1, run(env, 0, "logs", "--lines", "1").lines().count());

            assertTrue(run(env, 2, "logs", "--level", "LOUD").contains("not a level"));
            assertTrue(run(env, 2, "logs", "--lines", "-3").contains("--lines"));
            assertTrue(run(env, 2, "logs", "--tail").contains("unknown argument '--tail'"));
        }
    }

    @Test
    void followStreamsNewLinesUntilTheClientGoesAway() throws Exception {
        try (TestServer server = TestServer.start()) {
            Map<String, String> env = Map.of("DATA_DIR", server.dataDir().toString());
            String marker = "logs-follow-" + System.nanoTime();
            CountDownLatch seen = new CountDownLatch(1);
            StringBuilder received = new StringBuilder();
            OutputStream watching = new OutputStream() {
                @Override
                public synchronized void write(int b) {
                    received.append((char) b);
                    if (received.indexOf(marker) >= 0) seen.countDown();
                }
            };
            AtomicInteger exit = new AtomicInteger(-1);
            Thread client = Thread.ofPlatform().start(() -> exit.set(Main.run(new String[] {"logs", "--follow", "--lines", "0", "--level", "WARNING"},
                    env, new PrintStream(watching, true, StandardCharsets.UTF_8), System.err)));
            // Logged until the follower shows it: the follow may not have started when the first one is written.
            for (int i = 0; i < 200 && !seen.await(50, TimeUnit.MILLISECONDS); i++) {
                LOG.log(System.Logger.Level.WARNING, marker);
                LOG.log(System.Logger.Level.INFO, "not shown at WARNING " + marker.toUpperCase(java.util.Locale.ROOT));
            }
            assertTrue(seen.await(0, TimeUnit.SECONDS), "the followed line arrived: " + received);
            synchronized (watching) {
                assertFalse(received.toString().contains("not shown"), received.toString());
            }
            client.interrupt(); // Ctrl-C: the client's channel closes, and the server ends the stream
            client.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(client.isAlive(), "the client ended");
            // The server is not held up by the follower that went: the next request is answered and the stop is prompt.
            assertTrue(run(env, 0, "logs", "--lines", "3").lines().count() <= 3);
        }
    }

    @Test
    void saysSoWhenNoServerRuns() throws Exception {
        java.nio.file.Path dataDir = Files.createTempDirectory("mllp-logs-");
        try {
            String text = run(Map.of("DATA_DIR", dataDir.toString()), 1, "logs");
            assertTrue(text.contains("no server is running"), text);
        } finally {
            TestServer.deleteRecursively(dataDir);
        }
    }
}
