package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.FrameReader;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server as a hostile peer finds it, in a child JVM with a small heap ({@code -Xmx256m}, no
 * {@code ExitOnOutOfMemoryError}, so an OutOfMemoryError would show in its log instead of ending
 * it quietly): hundreds of connections that each start a 3 MiB frame and never end it, and a
 * flood of connections. Ordinary messages must keep getting AA, and SIGTERM must still end it.
 */
class HostileSenderTest {

    private static final Pattern ACCEPTING = Pattern.compile("accepting on /127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("admin listener on http://127\\.0\\.0\\.1:(\\d+)");
    private static final List<String> SMALL_HEAP = List.of("-Xmx256m");
    /** 400 unfinished frames of 3 MiB: 1.2 GiB, several times the child's heap. */
    private static final int ATTACKERS = 400;
    private static final int ATTACK_FRAME_BYTES = 3 << 20;
    private static final Duration DRAIN = Duration.ofSeconds(5);

    @Test
    void unfinishedFramesLargerThanTheHeapAreBackPressuredAndOrdinaryMessagesStillGetAa() throws Exception {
        Map<String, String> env = Map.of("LISTEN_ADDR", "127.0.0.1:0", "DRAIN_TIMEOUT", DRAIN.toSeconds() + "s");
        try (ServerProcessTest.Child child = ServerProcessTest.Child.start(SMALL_HEAP, env)) {
            int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
            int adminPort = Integer.parseInt(child.awaitLine(ADMIN).group(1));

            Attack first = Attack.start(port, ATTACKERS, "A");
            child.awaitLine(Pattern.compile("frame memory budget full"));
            assertEquals("AA", ordinaryMessage(port, "DURING-1"), "an ordinary message during the attack");
            assertEquals(200, healthz(adminPort), "alive during the attack");
            int finished = first.finishedWrites();
            assertTrue(finished < ATTACKERS, "the attackers are back-pressured: " + finished + " of " + ATTACKERS
                    + " could write their whole frame");
            awaitTrue(() -> first.refused() >= 1, "an unfinished frame gave way to the ordinary message: answered AE and closed");
            int refused = first.refused();
            first.close();
            assertEquals("AA", ordinaryMessage(port, "AFTER-1"), "an ordinary message after the attack");

            Attack second = Attack.start(port, ATTACKERS, "B"); // SIGTERM while connections wait for frame memory
            assertEquals("AA", ordinaryMessage(port, "DURING-2"));
            long stopping = System.nanoTime();
            child.process.toHandle().destroy(); // SIGTERM
            assertTrue(child.process.waitFor(DRAIN.plus(Main.STOP_GRACE).toSeconds() + 5, TimeUnit.SECONDS), "ended after SIGTERM");
            Duration took = Duration.ofNanos(System.nanoTime() - stopping);
            second.close();
            String log = child.output();
            assertEquals(0, child.process.exitValue(), log.lines().filter(l -> l.contains("ERROR")).toList().toString());
            assertTrue(took.compareTo(DRAIN.plus(Main.STOP_GRACE)) < 0, "SIGTERM ended it in " + took.toMillis() + " ms");
            assertFalse(log.contains("OutOfMemoryError"), "no OutOfMemoryError in the child's log");
            System.out.println("HostileSenderTest: first wave: " + finished + " of " + ATTACKERS + " attackers wrote their whole frame, "
                    + refused + " were refused; SIGTERM took " + took.toMillis() + " ms");
        }
    }

    @Test
    void aFloodOfConnectionsDoesNotLockOutASender() throws Exception {
        Map<String, String> env = Map.of("LISTEN_ADDR", "127.0.0.1:0", "DRAIN_TIMEOUT", DRAIN.toSeconds() + "s");
        try (ServerProcessTest.Child child = ServerProcessTest.Child.start(SMALL_HEAP, env);
             Flood flood = new Flood()) {
            int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
            int opened = flood.open(port, 12_000, Duration.ofSeconds(30));
            String during = ordinaryMessageWithRetries(port, "FLOOD-1");
            assertEquals("AA", during, "a sender that connects during the flood gets through (" + opened + " connections opened)");
            flood.close();
            assertEquals("AA", ordinaryMessageWithRetries(port, "FLOOD-2"), "and after it");
            child.process.toHandle().destroy();
            assertTrue(child.process.waitFor(DRAIN.plus(Main.STOP_GRACE).toSeconds() + 5, TimeUnit.SECONDS), "ended after SIGTERM");
            String log = child.output();
            assertFalse(log.contains("OutOfMemoryError"), "no OutOfMemoryError in the child's log");
            assertTrue(log.contains("connection ceiling"), "the ceiling was reached and said so");
            System.out.println("HostileSenderTest: flood of " + opened + " connections");
        }
    }

    // --- helpers -------------------------------------------------------------------------

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
    }

    private static String ordinaryMessage(int port, String controlId) throws IOException {
        try (MllpClient client = MllpClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), Duration.ofSeconds(5),
                Duration.ofSeconds(20), 1 << 20)) {
            return Hl7Text.of(client.exchange(ServerProcessTest.adt(controlId))).ackCode();
        }
    }

    /** A sender refused at the connection ceiling connects again, as real senders do: up to 20 times, 20 s in all. */
    private static String ordinaryMessageWithRetries(int port, String controlId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        IOException last = null;
        for (int attempt = 0; attempt < 20 && System.nanoTime() < deadline; attempt++) {
            try {
                return ordinaryMessage(port, controlId);
            } catch (IOException e) {
                last = e;
                TimeUnit.MILLISECONDS.sleep(250); // a sender's reconnect delay, not synchronisation
            }
        }
        throw new AssertionError("no answer in 20 attempts", last);
    }

    private static int healthz(int adminPort) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/healthz")).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        }
    }

    /** Connections that each send the start of a 3 MiB frame (a readable MSH, then filler) and never its end. */
    private static final class Attack implements AutoCloseable {
        private final List<Socket> sockets = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicInteger finishedWrites = new AtomicInteger();
        private final AtomicInteger refused = new AtomicInteger();

        static Attack start(int port, int count, String wave) throws IOException {
            Attack attack = new Attack();
            for (int i = 0; i < count; i++) {
                Socket socket = new Socket();
                socket.setSendBufferSize(64 * 1024); // small, so that a write blocks when the server stops reading
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
                attack.sockets.add(socket);
                byte[] head = ("\u000bMSH|^~\\&|ATTACK|ATTACK|MLLP|SERVER|20260101120000||ADT^A08^ADT_A01|ATK-" + wave + i + "|P|2.5\rNTE|1||")
                        .getBytes(StandardCharsets.ISO_8859_1);
                attack.threads.add(Thread.ofVirtual().start(() -> attack.write(socket, head)));
                attack.threads.add(Thread.ofVirtual().start(() -> attack.read(socket)));
            }
            return attack;
        }

        private void write(Socket socket, byte[] head) {
            byte[] filler = new byte[64 * 1024];
            java.util.Arrays.fill(filler, (byte) 'x');
            try {
                OutputStream out = socket.getOutputStream();
                out.write(head);
                for (int sent = head.length; sent < ATTACK_FRAME_BYTES; sent += filler.length) out.write(filler); // never the 0x1C
                finishedWrites.incrementAndGet();
            } catch (IOException e) {
                // the server closed it (given way, or the test ends the wave)
            }
        }

        private void read(Socket socket) {
            try {
                InputStream in = socket.getInputStream();
                FrameReader replies = new FrameReader((b, o, l, t) -> in.read(b, o, l), 1 << 20, Duration.ofMinutes(5),
                        Duration.ofMinutes(5), System::nanoTime);
                if (replies.next() instanceof FrameReader.Frame nak && Hl7Text.of(nak.payload()).ackCode().equals("AE")) {
                    refused.incrementAndGet();
                }
            } catch (IOException e) {
                // closed
            }
        }

        int finishedWrites() {
            return finishedWrites.get();
        }

        int refused() {
            return refused.get();
        }

        @Override
        public void close() throws InterruptedException {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing the test's own socket
                }
            }
            for (Thread t : threads) t.join(Duration.ofSeconds(10));
        }
    }

    /** Opens as many idle connections as it can, bounded in count and time; holds them until closed. */
    private static final class Flood implements AutoCloseable {
        private final ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();

        int open(int port, int max, Duration within) throws InterruptedException {
            long deadline = System.nanoTime() + within.toNanos();
            AtomicInteger opened = new AtomicInteger();
            List<Thread> openers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                openers.add(Thread.ofPlatform().start(() -> {
                    while (opened.get() < max && System.nanoTime() < deadline) {
                        try {
                            Socket s = new Socket();
                            sockets.add(s);
                            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
                            opened.incrementAndGet();
                        } catch (IOException e) {
                            return; // this machine opens no more
                        }
                    }
                }));
            }
            for (Thread t : openers) t.join(within.plusSeconds(10));
            return opened.get();
        }

        @Override
        public void close() {
            for (Socket s; (s = sockets.poll()) != null; ) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing the test's own socket
                }
            }
        }
    }
}
