package org.mllpserver.mllp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The listener over real loopback sockets, with a handler that echoes "ACK:" + payload. */
class MllpListenerTest {

    private static final Duration LONG = Duration.ofMinutes(5);
    /** How long a test waits for something that must happen promptly; a failure, not a pause. */
    private static final int PATIENCE_MILLIS = 5_000;

    private MllpListener listener;
    private final AtomicInteger oversizeHeadLength = new AtomicInteger(-1);

    @AfterEach
    void stop() throws InterruptedException {
        if (listener != null) listener.drain(Duration.ofSeconds(2));
    }

    @Test
    void answersEachFrameOnTheSameConnectionInOrder() throws IOException {
        start(new MllpListener.Limits(0, LONG, LONG, 4096), echo());
        try (MllpClient client = client()) {
            for (int i = 0; i < 20; i++) assertEquals("ACK:msg" + i, text(client.exchange(ascii("msg" + i))));
        }
    }

    @Test
    void refusesTheConnectionOverMaxConnectionsAndServesAgainWhenOneCloses() throws IOException {
        start(new MllpListener.Limits(2, LONG, LONG, 4096), echo());
        try (MllpClient first = client(); MllpClient second = client()) {
            assertEquals("ACK:1", text(first.exchange(ascii("1"))));
            assertEquals("ACK:2", text(second.exchange(ascii("2"))));
            try (Socket third = rawSocket()) {
                assertEquals(-1, third.getInputStream().read(), "the connection over the limit is closed at once");
            }
            assertEquals(1, listener.stats().refusedOverLimit());
            first.close();
            awaitTrue(() -> listener.stats().open() == 1, "the closed connection's permit is released");
            try (MllpClient fourth = client()) {
                assertEquals("ACK:4", text(fourth.exchange(ascii("4"))));
            }
        }
    }

    @Test
    void closesAConnectionOnWhichNoFrameStartsWithinTheIdleTimeout() throws IOException {
        start(new MllpListener.Limits(0, Duration.ofMillis(200), LONG, 4096), echo());
        try (Socket socket = rawSocket()) {
            socket.getOutputStream().write(ascii("junk without a start block"));
            assertEquals(-1, socket.getInputStream().read());
        }
        assertEquals(1, listener.stats().idleTimeouts());
    }

    @Test
    void closesAConnectionWhoseFrameStalls() throws IOException {
        start(new MllpListener.Limits(0, LONG, Duration.ofMillis(200), 4096), echo());
        try (Socket socket = rawSocket()) {
            socket.getOutputStream().write(concat(new byte[]{0x0B}, ascii("MSH|^~\\&|never finished")));
            assertEquals(-1, socket.getInputStream().read());
        }
        assertEquals(1, listener.stats().frameTimeouts());
    }

    @Test
    void refusesAnOversizeFrameHoldingNoMoreThanTheLimitThenCloses() throws IOException {
        start(new MllpListener.Limits(0, LONG, LONG, 1024), echo());
        try (Socket socket = rawSocket()) {
            OutputStream out = socket.getOutputStream();
            out.write(0x0B);
            out.write(ascii("MSH|" + "z".repeat(5000)));
            out.flush();
            InputStream in = socket.getInputStream();
            assertEquals("OVERSIZE", text(readFrame(in)));
            assertEquals(-1, in.read(), "closed after the answer");
        }
        assertEquals(1024, oversizeHeadLength.get(), "the handler saw exactly MAX_FRAME_SIZE bytes");
        assertEquals(1, listener.stats().oversizeFrames());
    }

    @Test
    void countsJunkBeforeStartBlocks() throws IOException {
        start(new MllpListener.Limits(0, LONG, LONG, 4096), echo());
        try (Socket socket = rawSocket()) {
            socket.getOutputStream().write(concat(ascii("garbage"), new byte[]{0x0B}, ascii("x"), new byte[]{0x1C, 0x0D}));
            assertEquals("ACK:x", text(readFrame(socket.getInputStream())));
        }
        awaitTrue(() -> listener.stats().junkBytes() == 7, "junk counted when the connection closes");
    }

    @Test
    void drainClosesIdleConnectionsAndAnswersFramesInFlight() throws Exception {
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        start(new MllpListener.Limits(0, LONG, LONG, 4096), blockingOn("slow", inHandler, release));
        try (MllpClient idle = client(); MllpClient busy = client()) {
            assertEquals("ACK:hello", text(idle.exchange(ascii("hello"))));
            busy.send(ascii("slow"));
            assertTrue(inHandler.await(PATIENCE_MILLIS, TimeUnit.MILLISECONDS));
            CompletableFuture<Integer> drained = CompletableFuture.supplyAsync(() -> drain(Duration.ofSeconds(10)));
            assertEquals(-1, idle.socket().getInputStream().read(), "the idle connection is closed by the drain");
            assertThrows(IOException.class, () -> rawSocket().close(), "no new connections during the drain");
            release.countDown();
            assertEquals("ACK:slow", text(busy.awaitReply()), "the frame in flight is answered");
            assertEquals(-1, busy.socket().getInputStream().read(), "then its connection is closed");
            assertEquals(0, drained.get(PATIENCE_MILLIS, TimeUnit.MILLISECONDS), "nothing had to be forced");
        }
        listener = null;
    }

    @Test
    void drainForceClosesWhatIsStillBusyAtTheTimeout() throws Exception {
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        start(new MllpListener.Limits(0, LONG, LONG, 4096), blockingOn("stuck", inHandler, release));
        try (MllpClient stuck = client()) {
            stuck.send(ascii("stuck"));
            assertTrue(inHandler.await(PATIENCE_MILLIS, TimeUnit.MILLISECONDS));
            assertEquals(1, listener.drain(Duration.ofMillis(300)));
            stuck.socket().setSoTimeout(PATIENCE_MILLIS);
            assertEquals(-1, stuck.socket().getInputStream().read(), "force-closed");
        } finally {
            release.countDown();
        }
        listener = null;
    }

    @Test
    void aSmallFrameGetsThroughWhileFrameMemoryIsFullAndTheLargestUnfinishedFrameGivesWay() throws IOException {
        FrameBudget budget = new FrameBudget(256 * 1024, System::nanoTime);
        start(new MllpListener.Limits(0, LONG, LONG, 1 << 20), echo(), budget, ConnectionCeiling.none(), System::nanoTime);
        try (Socket hog = rawSocket()) {
            hog.getOutputStream().write(concat(new byte[]{0x0B}, ascii("MSH|" + "h".repeat(250_000)))); // never ended
            awaitTrue(() -> budget.used() == 256 * 1024, "the hog holds the whole budget");
            try (MllpClient small = client()) {
                assertEquals("ACK:small", text(small.exchange(ascii("small"))), "a small frame still gets its answer");
            }
            assertEquals(1, budget.waits(), "it had to wait for room");
            InputStream in = hog.getInputStream();
            assertEquals("OVERSIZE", text(readFrame(in)), "the hog's unfinished frame gave way: it is answered...");
            assertEquals(-1, in.read(), "...and closed");
        }
        assertEquals(1, budget.gaveWay());
        assertEquals(1, listener.stats().overBudgetFrames());
        awaitTrue(() -> budget.used() == 0, "everything given back");
    }

    @Test
    void aBigFrameWaitsForRoomAndTheDrainClosesItsConnection() throws Exception {
        FrameBudget budget = new FrameBudget(64 * 1024, 0, System::nanoTime); // no frame gives way: the second one waits
        start(new MllpListener.Limits(0, LONG, LONG, 1 << 20), echo(), budget, ConnectionCeiling.none(), System::nanoTime);
        try (Socket hog = rawSocket(); Socket waiter = rawSocket()) {
            hog.getOutputStream().write(concat(new byte[]{0x0B}, ascii("MSH|" + "h".repeat(60_000))));
            awaitTrue(() -> budget.used() == 64 * 1024, "the first holds the whole budget");
            waiter.getOutputStream().write(concat(new byte[]{0x0B}, ascii("MSH|" + "w".repeat(60_000))));
            awaitTrue(() -> budget.waiting() == 1, "the second waits for room: it is not read further");
            assertEquals(2, listener.drain(Duration.ofMillis(300)), "both force-closed at the end of the drain");
            assertEquals(-1, waiter.getInputStream().read());
        }
        listener = null;
        assertEquals(0, budget.used());
    }

    @Test
    void atTheConnectionCeilingTheConnectionIdleLongestMakesRoomAndOtherwiseTheNewOneIsRefused() throws IOException {
        AtomicLong clock = new AtomicLong();
        ConnectionCeiling ceiling = new ConnectionCeiling(Long.MAX_VALUE, 2, clock::get);
        start(new MllpListener.Limits(0, LONG, LONG, 4096), echo(), new FrameBudget(1 << 20, clock::get), ceiling, clock::get);
        try (MllpClient first = client(); MllpClient second = client()) {
            assertEquals("ACK:1", text(first.exchange(ascii("1"))));
            awaitTrue(() -> ceiling.idle() == 2, "the first waits for its next frame again"); // before the clock moves
            clock.addAndGet(Duration.ofMillis(1000).toNanos());
            assertEquals("ACK:2", text(second.exchange(ascii("2"))));
            awaitTrue(() -> ceiling.idle() == 2, "both wait for their next frame");
            clock.addAndGet(Duration.ofMillis(1500).toNanos()); // first idle 2.5 s, second 1.5 s
            try (MllpClient third = client()) {
                assertEquals("ACK:3", text(third.exchange(ascii("3"))), "the new connection is served");
                first.socket().setSoTimeout(PATIENCE_MILLIS);
                assertEquals(-1, first.socket().getInputStream().read(), "the connection idle longest was closed for it");
                awaitTrue(() -> ceiling.idle() == 2, "the third waits for its next frame too");
                try (MllpClient fourth = client()) {
                    assertEquals("ACK:4", text(fourth.exchange(ascii("4"))));
                    second.socket().setSoTimeout(PATIENCE_MILLIS);
                    assertEquals(-1, second.socket().getInputStream().read(), "then the next idle over 1 s");
                    try (Socket fifth = rawSocket()) {
                        assertEquals(-1, fifth.getInputStream().read(), "none idle for 1 s: the new one is refused");
                    }
                    assertEquals("ACK:3 again", text(third.exchange(ascii("3 again"))), "the others are untouched");
                }
            }
        }
        assertEquals(2, ceiling.madeRoom());
        assertEquals(1, listener.stats().refusedAtCeiling());
    }

    @Test
    void theAcceptLoopOutlivesAnErrorAndServesTheNextConnection() throws IOException {
        AtomicInteger failures = new AtomicInteger(1);
        ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()) {
            @Override
            public Socket accept() throws IOException {
                Socket accepted = super.accept();
                if (failures.getAndDecrement() > 0) {
                    accepted.close();
                    throw new OutOfMemoryError("injected: unable to create a connection"); // what a heap-exhausting sender caused
                }
                return accepted;
            }
        };
        AtomicLong ids = new AtomicLong();
        listener = new MllpListener("test", socket, new MllpListener.Limits(1, LONG, LONG, 4096), echo(), new ListenerStats(),
                ids::incrementAndGet, System::nanoTime);
        listener.start();
        try (Socket victim = rawSocket()) {
            assertEquals(-1, victim.getInputStream().read(), "the connection met by the Error is closed");
        }
        try (MllpClient next = client()) {
            assertEquals("ACK:after", text(next.exchange(ascii("after"))), "accepting went on, and the permit was given back");
        }
        assertTrue(listener.acceptProblem().isEmpty(), "accepting works again: nothing to report");
        assertTrue(!listener.acceptThreadEnded());
    }

    @Test
    void aSmallFrameSplitOverTwoReadsGetsRoomFromConnectionsHoldingOneByteFrames() throws IOException {
        FrameBudget budget = new FrameBudget(4 * FrameReader.FIRST_CHUNK_BYTES, System::nanoTime);
        start(new MllpListener.Limits(0, LONG, LONG, 1 << 20), echo(), budget, ConnectionCeiling.none(), System::nanoTime);
        List<Socket> holders = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket s = rawSocket();
                s.getOutputStream().write(new byte[]{0x0B, 'M'}); // two bytes each, never more
                holders.add(s);
            }
            awaitTrue(() -> budget.used() == 4 * FrameReader.FIRST_CHUNK_BYTES, "four 2-byte frames hold the whole budget");
            try (Socket lab = rawSocket()) {
                OutputStream out = lab.getOutputStream();
                out.write(concat(new byte[]{0x0B}, ascii("MSH|^~\\&|LAB|"))); // an ordinary sender writing in two pieces
                awaitTrue(() -> budget.waiting() == 1, "its first piece waits for room");
                out.write(concat(ascii("X|Y|Z|20260101||ORU^R01|C1|P|2.5"), new byte[]{0x1C, 0x0D}));
                assertEquals("ACK:MSH|^~\\&|LAB|X|Y|Z|20260101||ORU^R01|C1|P|2.5", text(readFrame(lab.getInputStream())),
                        "answered once the oldest 2-byte frame gave way (after 100 ms), not at the holders' FRAME_TIMEOUT");
            }
            assertEquals(1, budget.gaveWay());
        } finally {
            for (Socket s : holders) s.close();
        }
    }

    @Test
    void aPeerThatDoesNotReadItsAnswerIsClosedAfterIdleTimeoutAndItsFrameGivenBack() throws IOException {
        FrameBudget budget = new FrameBudget(4 << 20, System::nanoTime);
        byte[] bigAnswer = new byte[16 << 20]; // stands for the answers a sender that pipelines and never reads piles up
        FrameHandler answersBig = new FrameHandler() {
            @Override
            public Optional<byte[]> onFrame(byte[] payload, Peer peer) {
                return Optional.of(bigAnswer);
            }

            @Override
            public Optional<byte[]> onUnheldFrame(FrameReader.Unheld frame, Peer peer) {
                return Optional.empty();
            }
        };
        start(new MllpListener.Limits(0, Duration.ofMillis(300), Duration.ofMillis(300), 2 << 20), answersBig, budget,
                ConnectionCeiling.none(), System::nanoTime);
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.port()));
            s.getOutputStream().write(FrameReader.frame(ascii("MSH|" + "x".repeat((2 << 20) - 100))));
            awaitTrue(() -> listener.stats().open() == 1 && budget.used() > 0, "the frame is held while its answer is written");
            awaitTrue(() -> listener.stats().open() == 0, "closed: its answer was not read within IDLE_TIMEOUT");
            assertEquals(0, budget.used(), "and its frame's bytes given back");
        }
    }

    @Test
    void atTheCeilingAConnectionStalledInAFrameMakesRoomBeforeAnIdleSender() throws IOException {
        AtomicLong clock = new AtomicLong();
        ConnectionCeiling ceiling = new ConnectionCeiling(Long.MAX_VALUE, 3, clock::get);
        start(new MllpListener.Limits(0, LONG, LONG, 4096), echo(), new FrameBudget(1 << 20, clock::get), ceiling, clock::get);
        try (MllpClient lab = client(); Socket first = rawSocket(); Socket second = rawSocket()) {
            assertEquals("ACK:1", text(lab.exchange(ascii("1"))));
            first.getOutputStream().write(0x0B); // a frame started, never more
            second.getOutputStream().write(0x0B);
            awaitTrue(() -> ceiling.stalled() == 2 && ceiling.idle() == 1, "two stalled, the lab idle");
            clock.addAndGet(Duration.ofMillis(1500).toNanos());
            try (MllpClient newcomer = client()) {
                assertEquals("ACK:2", text(newcomer.exchange(ascii("2"))), "a new sender is served...");
            }
            assertEquals("ACK:3", text(lab.exchange(ascii("3"))), "...and the idle lab was not the one closed");
            int closed = 0;
            for (Socket s : List.of(first, second)) {
                try {
                    s.setSoTimeout(500); // long enough to see a close that has happened already
                    if (s.getInputStream().read() == -1) closed++;
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // not this one
                }
            }
            assertEquals(1, closed, "one stalled connection made room");
        }
        assertEquals(1, ceiling.madeRoom());
    }

    @Test
    void aListenerWhoseSocketWasClosedUnderItReportsThatItCannotGoOn() throws IOException {
        ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        AtomicLong ids = new AtomicLong();
        listener = new MllpListener("test", socket, new MllpListener.Limits(0, LONG, LONG, 4096), echo(), new ListenerStats(),
                ids::incrementAndGet, System::nanoTime);
        listener.start();
        assertTrue(listener.acceptProblem().isEmpty());
        socket.close(); // not a drain: nothing will accept on this listener again
        awaitTrue(listener::acceptThreadEnded, "the accept thread ends");
        assertEquals("test listener: its accept thread has ended", listener.acceptProblem().orElseThrow());
    }

    // --- helpers -------------------------------------------------------------------------

    private void start(MllpListener.Limits limits, FrameHandler handler) throws IOException {
        ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        AtomicLong ids = new AtomicLong();
        listener = new MllpListener("test", socket, limits, handler, new ListenerStats(), ids::incrementAndGet, System::nanoTime);
        listener.start();
    }

    private void start(MllpListener.Limits limits, FrameHandler handler, FrameBudget budget, ConnectionCeiling ceiling,
                       java.util.function.LongSupplier clock) throws IOException {
        ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        AtomicLong ids = new AtomicLong();
        listener = new MllpListener("test", socket, limits, handler, new ListenerStats(),
                new MllpListener.Shared(ids::incrementAndGet, clock, budget, ceiling, org.mllpserver.events.Events.NONE), SocketUpgrade.PLAIN);
        listener.start();
    }

    private int drain(Duration timeout) {
        try {
            return listener.drain(timeout);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private FrameHandler echo() {
        return new FrameHandler() {
            @Override
            public Optional<byte[]> onFrame(byte[] payload, Peer peer) {
                return Optional.of(concat(ascii("ACK:"), payload));
            }

            @Override
            public Optional<byte[]> onUnheldFrame(FrameReader.Unheld frame, Peer peer) {
                oversizeHeadLength.set(frame.head().length);
                return Optional.of(ascii("OVERSIZE"));
            }
        };
    }

    /** Echoes, but blocks on the frame {@code slow} until released. */
    private FrameHandler blockingOn(String slow, CountDownLatch entered, CountDownLatch release) {
        FrameHandler echo = echo();
        return new FrameHandler() {
            @Override
            public Optional<byte[]> onFrame(byte[] payload, Peer peer) {
                if (text(payload).equals(slow)) {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return echo.onFrame(payload, peer);
            }

            @Override
            public Optional<byte[]> onUnheldFrame(FrameReader.Unheld frame, Peer peer) {
                return echo.onUnheldFrame(frame, peer);
            }
        };
    }

    private MllpClient client() throws IOException {
        return MllpClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.port()),
                Duration.ofSeconds(5), Duration.ofSeconds(10), 1 << 20);
    }

    private Socket rawSocket() throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), listener.port());
        socket.setSoTimeout(PATIENCE_MILLIS); // a missing close fails the test instead of hanging it
        return socket;
    }

    private static byte[] readFrame(InputStream in) throws IOException {
        FrameReader reader = new FrameReader((b, o, l, t) -> in.read(b, o, l), 1 << 20, LONG, LONG, System::nanoTime);
        FrameReader.Result result = reader.next();
        if (result instanceof FrameReader.Frame frame) return frame.payload();
        throw new IOException("expected a frame, got " + result);
    }

    /** Waits for a condition the server reaches on its own threads; bounded, fails rather than hangs. */
    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PATIENCE_MILLIS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // poll the server's counters, without burning a core
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        return FrameReaderTest.concat(parts);
    }
}
