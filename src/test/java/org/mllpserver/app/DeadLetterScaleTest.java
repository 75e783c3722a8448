package org.mllpserver.app;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A weekend of a feed whose downstream answers 401: 200 000 open dead letters, held by a server
 * with a 256 MiB heap, which is then stopped and started again with the same heap. It starts
 * (from its checkpoint), lists them all and replays them all; the downstream, fixed, gets them.
 * Before dead letters were indexed without their messages, this heap could not have held them.
 */
class DeadLetterScaleTest {

    private static final int DEAD_LETTERS = 200_000;
    private static final int SENDERS = 8;
    private static final Pattern ACCEPTING = Pattern.compile("accepting on /127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern READY = Pattern.compile("ready in (\\d+) ms \\(journal read (.*)\\)");
    private static final List<String> SMALL_HEAP = List.of("-Xmx256m");

    @Test
    void twoHundredThousandOpenDeadLettersAreHeldListedAndReplayedWithA256MiBHeap() throws Exception {
        Path data = Files.createTempDirectory("mllp-dead-");
        AtomicInteger status = new AtomicInteger(401);
        AtomicLong requests = new AtomicLong();
        HttpServer downstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        downstream.createContext("/hl7", exchange -> {
            exchange.getRequestBody().readAllBytes();
            requests.incrementAndGet();
            exchange.sendResponseHeaders(status.get(), -1);
            exchange.close();
        });
        downstream.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        downstream.start();
        Map<String, String> env = Map.of("DATA_DIR", data.toString(), "LISTEN_ADDR", "127.0.0.1:0", "DRAIN_TIMEOUT", "5s",
                "LOG_LEVEL", "WARNING", "CONNECTOR_EHR_TYPE", "http",
                "CONNECTOR_EHR_URL", "http://127.0.0.1:" + downstream.getAddress().getPort() + "/hl7");
        Map<String, String> infoEnv = new java.util.HashMap<>(env);
        infoEnv.put("LOG_LEVEL", "INFO");
        try {
            long started = System.nanoTime();
            try (ServerProcessTest.Child child = ServerProcessTest.Child.start(SMALL_HEAP, infoEnv)) {
                int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
                send(port, DEAD_LETTERS);
                awaitDeadLetters(env, DEAD_LETTERS);
                System.out.println("DeadLetterScaleTest: " + DEAD_LETTERS + " dead letters in " + seconds(started) + " s");
                stop(child);
                assertFalse(child.output().contains("OutOfMemoryError"), "no OutOfMemoryError while holding them");
            }
            try (ServerProcessTest.Child child = ServerProcessTest.Child.start(SMALL_HEAP, infoEnv)) {
                Matcher ready = child.awaitLine(READY);
                System.out.println("DeadLetterScaleTest: started again with " + DEAD_LETTERS + " open dead letters in " + ready.group(1)
                        + " ms (journal read " + ready.group(2) + ")");
                assertEquals("from its checkpoint on", ready.group(2));
                String list = dlq(env, "list");
                assertTrue(list.endsWith(DEAD_LETTERS + " dead letter(s)\n"), list.substring(Math.max(0, list.length() - 200)));
                assertEquals(DEAD_LETTERS + 2, list.lines().count(), "a header, a line each, and the count");
                status.set(200); // the token was renewed
                long replayStarted = System.nanoTime();
                String replay = dlq(env, "replay", "--all");
                System.out.println("DeadLetterScaleTest: replayed " + DEAD_LETTERS + " in " + seconds(replayStarted) + " s");
                assertTrue(replay.contains(DEAD_LETTERS + " dead letter(s) replayed"), replay.substring(Math.max(0, replay.length() - 200)));
                assertTrue(dlq(env, "list").endsWith("0 dead letter(s)\n"));
                long before = requests.get();
                awaitTrue(() -> requests.get() >= before + 1000, "the replayed records are delivered");
                stop(child);
                assertFalse(child.output().contains("OutOfMemoryError"), "no OutOfMemoryError");
            }
        } finally {
            downstream.stop(0);
            TestServer.deleteRecursively(data);
        }
    }

    /** Sends {@code n} ADTs over {@link #SENDERS} connections; every answer must be AA. */
    private static void send(int port, int n) throws Exception {
        List<Thread> senders = new ArrayList<>();
        AtomicInteger failures = new AtomicInteger();
        for (int s = 0; s < SENDERS; s++) {
            int sender = s;
            senders.add(Thread.ofPlatform().start(() -> {
                try (MllpClient client = MllpClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                        Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 16)) {
                    for (int i = sender; i < n; i += SENDERS) {
                        if (!Hl7Text.of(client.exchange(ServerProcessTest.adt("DL-" + i))).ackCode().equals("AA")) failures.incrementAndGet();
                    }
                } catch (IOException e) {
                    failures.incrementAndGet();
                }
            }));
        }
        for (Thread t : senders) assertTrue(t.join(Duration.ofMinutes(5)), "the senders finish");
        assertEquals(0, failures.get());
    }

    /** Waits (bounded) until {@code dlq status} shows {@code n} dead letters for the connector. */
    private static void awaitDeadLetters(Map<String, String> env, int n) {
        Pattern dead = Pattern.compile("^ehr\\s+\\d+\\s+\\d+\\s+(\\d+)", Pattern.MULTILINE);
        awaitTrue(() -> {
            Matcher m = dead.matcher(dlq(env, "status"));
            return m.find() && Long.parseLong(m.group(1)) >= n;
        }, n + " dead letters");
    }

    private static String dlq(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] command = new String[args.length + 1];
        command[0] = "dlq";
        System.arraycopy(args, 0, command, 1, args.length);
        int code = Main.run(command, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        if (code != 0) throw new AssertionError("dlq " + String.join(" ", args) + " exited " + code + ": " + err);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void stop(ServerProcessTest.Child child) throws InterruptedException {
        child.process.toHandle().destroy(); // SIGTERM: a clean stop writes the checkpoint
        assertTrue(child.process.waitFor(60, TimeUnit.SECONDS), "stopped");
        assertEquals(0, child.process.exitValue(), child.output().lines().filter(l -> l.contains("ERROR")).toList().toString());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
            java.util.concurrent.locks.LockSupport.parkNanos(200_000_000); // polls the server's own status command
        }
    }

    private static long seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000_000L;
    }
}
