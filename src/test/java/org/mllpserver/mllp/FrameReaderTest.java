package org.mllpserver.mllp;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The framer over in-memory sources: one byte at a time, every split offset, seeded random streams. */
class FrameReaderTest {

    private static final Duration LONG = Duration.ofDays(1);
    private static final int MAX = 1 << 20;

    @Test
    void readsFramesDeliveredOneByteAtATime() throws IOException {
        byte[] stream = concat(frame("MSH|first"), frame("MSH|second"));
        FrameReader reader = reader(stream, i -> 1, MAX);
        assertFrame("MSH|first", reader.next());
        assertFrame("MSH|second", reader.next());
        assertInstanceOf(FrameReader.EndOfStream.class, reader.next());
        assertEquals(0, reader.junkBytes());
    }

    @Test
    void readsTheSameFramesWhateverOffsetTheStreamIsSplitAt() throws IOException {
        byte[] stream = concat(ascii("junk"), frame("MSH|a"), ascii("!"), bytes(0x0B), ascii("MSH|b"), bytes(0x1C, 0x0D, 0x0A),
                bytes(0x0B), ascii("MSH|c"), bytes(0x1C), frame("MSH|d"));
        for (int split = 0; split <= stream.length; split++) {
            int at = split;
            FrameReader reader = reader(stream, i -> i == 0 ? Math.max(at, 1) : Integer.MAX_VALUE, MAX);
            List<String> frames = readAll(reader);
            assertEquals(List.of("MSH|a", "MSH|b", "MSH|c", "MSH|d"), frames, "split at " + split);
            assertEquals(5, reader.junkBytes(), "junk: 'junk' and '!'; split at " + split);
        }
    }

    @Test
    void returnsManyFramesFromOneRead() throws IOException {
        byte[] stream = concat(frame("one"), frame("two"), frame("three"));
        FrameReader reader = reader(stream, i -> Integer.MAX_VALUE, MAX);
        assertEquals(List.of("one", "two", "three"), readAll(reader));
    }

    @Test
    void acceptsCrLfTrailerWithoutCountingItAsJunk() throws IOException {
        byte[] stream = concat(bytes(0x0B), ascii("one"), bytes(0x1C, 0x0D, 0x0A), bytes(0x0B), ascii("two"), bytes(0x1C, 0x0D, 0x0A));
        FrameReader reader = reader(stream, i -> 1, MAX);
        assertEquals(List.of("one", "two"), readAll(reader));
        assertEquals(0, reader.junkBytes());
    }

    @Test
    void returnsAFrameAtTheEndBlockWithoutWaitingForTheCarriageReturn() throws IOException {
        // The source fails the test if read past the 0x1C: the frame must come back first.
        byte[] stream = concat(bytes(0x0B), ascii("MSH|x"), bytes(0x1C));
        int[] reads = {0};
        FrameReader reader = new FrameReader((buffer, offset, length, timeout) -> {
            if (reads[0] >= stream.length) throw new AssertionError("read beyond the end block: the reader waited for 0x0D");
            buffer[offset] = stream[reads[0]++];
            return 1;
        }, MAX, LONG, LONG, System::nanoTime);
        assertFrame("MSH|x", reader.next());
    }

    @Test
    void countsJunkBeforeTheStartBlock() throws IOException {
        byte[] stream = concat(ascii("hello\r\n"), frame("MSH|1"), ascii("xx"), frame("MSH|2"));
        FrameReader reader = reader(stream, i -> 3, MAX);
        assertEquals(List.of("MSH|1", "MSH|2"), readAll(reader));
        assertEquals(9, reader.junkBytes());
    }

    @Test
    void keepsAStartBlockInsideAFrameAsPayload() throws IOException {
        byte[] stream = concat(bytes(0x0B), ascii("MSH|a"), bytes(0x0B), ascii("MSH|b"), bytes(0x1C, 0x0D));
        FrameReader.Result result = reader(stream, i -> 1, MAX).next();
        assertArrayEquals(concat(ascii("MSH|a"), bytes(0x0B), ascii("MSH|b")), ((FrameReader.Frame) result).payload());
    }

    @Test
    void reportsAFrameCutOffByTheEndOfTheStream() throws IOException {
        byte[] stream = concat(bytes(0x0B), ascii("MSH|partial"));
        FrameReader.Result result = reader(stream, i -> 4, MAX).next();
        assertEquals(new FrameReader.EndOfStream(11), result);
    }

    @Test
    void refusesAnOversizeFrameWithoutHoldingMoreThanTheLimit() throws IOException {
        int max = 1000;
        byte[] stream = concat(bytes(0x0B), ascii("MSH|" + "x".repeat(100_000)), bytes(0x1C, 0x0D));
        AtomicLong delivered = new AtomicLong();
        int[] position = {0};
        int[] largestCapacity = {0};
        FrameReader[] self = new FrameReader[1];
        FrameReader reader = new FrameReader((buffer, offset, length, timeout) -> {
            largestCapacity[0] = Math.max(largestCapacity[0], self[0].frameCapacity()); // while the frame is assembled
            int n = Math.min(Math.min(length, 64), stream.length - position[0]);
            System.arraycopy(stream, position[0], buffer, offset, n);
            position[0] += n;
            delivered.addAndGet(n);
            return n;
        }, max, LONG, LONG, System::nanoTime);
        self[0] = reader;
        FrameReader.TooLarge tooLarge = assertInstanceOf(FrameReader.TooLarge.class, reader.next());
        assertEquals(max, tooLarge.head().length);
        assertTrue(new String(tooLarge.head(), StandardCharsets.US_ASCII).startsWith("MSH|xxx"));
        assertTrue(delivered.get() <= max + 1 + 64, "read no further than the limit plus one read: " + delivered.get());
        assertTrue(largestCapacity[0] > 0 && largestCapacity[0] <= max, "largest frame buffer while reading: " + largestCapacity[0]);
    }

    @Test
    void aLargeFrameGrowsInChunksWithoutEverHoldingTwiceItsSize() throws IOException {
        int size = 3 << 20;
        byte[] payload = ascii("MSH|" + "z".repeat(size - 4));
        byte[] stream = concat(frame(new String(payload, StandardCharsets.ISO_8859_1)), frame("MSH|small"));
        CountingMemory memory = new CountingMemory(Long.MAX_VALUE);
        int[] position = {0};
        long[] largestCapacityOverLength = {0};
        FrameReader[] self = new FrameReader[1];
        FrameReader reader = new FrameReader((buffer, offset, length, timeout) -> {
            if (self[0] != null) {
                largestCapacityOverLength[0] = Math.max(largestCapacityOverLength[0], self[0].frameCapacity() - (position[0] - 1L));
            }
            if (position[0] >= stream.length) return -1;
            int n = Math.min(Math.min(length, 65536), stream.length - position[0]);
            System.arraycopy(stream, position[0], buffer, offset, n);
            position[0] += n;
            return n;
        }, 4 << 20, LONG, LONG, System::nanoTime, () -> { }, memory);
        self[0] = reader;
        FrameReader.Frame big = assertInstanceOf(FrameReader.Frame.class, reader.next());
        assertArrayEquals(payload, big.payload());
        assertTrue(largestCapacityOverLength[0] <= FrameReader.CHUNK_BYTES,
                "capacity beyond what arrived: " + largestCapacityOverLength[0]);
        assertTrue(memory.held <= size + FrameReader.CHUNK_BYTES, "reserved while it is handled: " + memory.held);
        assertEquals(memory.held, memory.peak, "the join at its end reserves nothing more");
        assertFrame("MSH|small", reader.next());
        assertEquals(9, memory.held, "the big frame's reservation ended when the next frame was asked for");
        assertInstanceOf(FrameReader.EndOfStream.class, reader.next());
        assertEquals(0, memory.held);
    }

    @Test
    void aFrameTheMemoryCannotHoldIsRefusedWithItsHead() throws IOException {
        byte[] stream = concat(bytes(0x0B), ascii("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|CTRL-9|P|2.5\r" + "x".repeat(200_000)));
        CountingMemory memory = new CountingMemory(64 * 1024);
        FrameReader reader = new FrameReader(source(stream, 4096), MAX, LONG, LONG, System::nanoTime, () -> { }, memory);
        FrameReader.OverBudget over = assertInstanceOf(FrameReader.OverBudget.class, reader.next());
        assertEquals(FrameMemory.Grant.TIMED_OUT, over.why());
        assertEquals(64 * 1024, over.receivedBytes());
        assertTrue(new String(over.head(), StandardCharsets.ISO_8859_1).startsWith("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|CTRL-9|"));
        assertEquals(over.head().length, memory.held, "only the head stays reserved");
    }

    @Test
    void aFrameAskedToGiveWayStopsAtItsNextRead() throws IOException {
        byte[] stream = concat(bytes(0x0B), ascii("MSH|" + "x".repeat(100_000)), bytes(0x1C));
        CountingMemory memory = new CountingMemory(Long.MAX_VALUE);
        int[] reads = {0};
        FrameReader.Source base = source(stream, 4096);
        FrameReader reader = new FrameReader((buffer, offset, length, timeout) -> {
            if (++reads[0] == 3) memory.asked = true; // another connection needed the room
            return base.read(buffer, offset, length, timeout);
        }, MAX, LONG, LONG, System::nanoTime, () -> { }, memory);
        FrameReader.OverBudget over = assertInstanceOf(FrameReader.OverBudget.class, reader.next());
        assertEquals(FrameMemory.Grant.GAVE_WAY, over.why());
        assertEquals(2 * 4096 - 1, over.receivedBytes(), "stopped after the read that saw the request");
    }

    /** A FrameMemory that counts, with a capacity; reservations beyond it time out at once. */
    private static final class CountingMemory implements FrameMemory {
        final long capacity;
        long held;
        long peak;
        volatile boolean asked;

        CountingMemory(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public Grant reserve(int bytes, long deadlineNanos) {
            if (asked) return Grant.GAVE_WAY;
            if (held + bytes > capacity) return Grant.TIMED_OUT;
            held += bytes;
            peak = Math.max(peak, held);
            return Grant.GRANTED;
        }

        @Override
        public Grant reserveWhole(int bytes, long deadlineNanos) {
            return reserve(bytes, deadlineNanos);
        }

        @Override
        public boolean settle() {
            return !asked;
        }

        @Override
        public void release(long bytes) {
            held -= bytes;
            if (held < 0) throw new AssertionError("released more than reserved");
        }

        @Override
        public boolean gaveWay() {
            return asked;
        }
    }

    private static FrameReader.Source source(byte[] stream, int readSize) {
        int[] position = {0};
        return (buffer, offset, length, timeout) -> {
            if (position[0] >= stream.length) return -1;
            int n = Math.min(Math.min(length, readSize), stream.length - position[0]);
            System.arraycopy(stream, position[0], buffer, offset, n);
            position[0] += n;
            return n;
        };
    }

    @Test
    void reportsAnIdleTimeoutWhenNoFrameStarts() throws IOException {
        FrameReader reader = new FrameReader((buffer, offset, length, timeout) -> {
            throw new SocketTimeoutException("idle");
        }, MAX, Duration.ofSeconds(30), LONG, System::nanoTime);
        assertEquals(new FrameReader.TimedOut(false, 0), reader.next());
    }

    @Test
    void theFrameTimeoutIsADeadlineThatASlowDripDoesNotExtend() throws IOException {
        // Each read delivers one byte and moves the clock one second: a frame that keeps
        // trickling must still end at its 5 s deadline.
        AtomicLong clock = new AtomicLong();
        byte[] stream = concat(bytes(0x0B), ascii("MSH|" + "y".repeat(100)));
        int[] position = {0};
        List<Duration> timeoutsAsked = new ArrayList<>();
        FrameReader reader = new FrameReader((buffer, offset, length, timeout) -> {
            timeoutsAsked.add(timeout);
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            buffer[offset] = stream[position[0]++];
            return 1;
        }, MAX, Duration.ofMinutes(10), Duration.ofSeconds(5), clock::get);
        FrameReader.TimedOut timedOut = assertInstanceOf(FrameReader.TimedOut.class, reader.next());
        assertTrue(timedOut.inFrame());
        // Start byte read at t=1 s, deadline t=6 s: bytes arrive at t=2..6, then nothing is left.
        assertEquals(5, timedOut.partialFrameBytes(), "bytes received before the deadline");
        assertEquals(List.of(Duration.ofMinutes(10), Duration.ofSeconds(5), Duration.ofSeconds(4), Duration.ofSeconds(3),
                Duration.ofSeconds(2), Duration.ofSeconds(1)), timeoutsAsked, "each read waits only for what is left of the deadline");
    }

    @Test
    void randomFrameStreamsCutAtRandomPointsGiveBackEveryFrame() throws IOException {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("FrameReaderTest random streams: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            List<byte[]> expected = new ArrayList<>();
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            long junk = 0;
            int frames = 1 + random.nextInt(8);
            for (int f = 0; f < frames; f++) {
                byte[] junkBytes = randomLetters(random, random.nextInt(4) == 0 ? random.nextInt(20) : 0);
                junk += junkBytes.length;
                stream.writeBytes(junkBytes);
                byte[] payload = randomPayload(random, random.nextInt(3000));
                expected.add(payload);
                stream.write(0x0B);
                stream.writeBytes(payload);
                stream.writeBytes(switch (random.nextInt(3)) {
                    case 0 -> bytes(0x1C);
                    case 1 -> bytes(0x1C, 0x0D);
                    default -> bytes(0x1C, 0x0D, 0x0A);
                });
            }
            byte[] all = stream.toByteArray();
            FrameReader reader = reader(all, i -> 1 + random.nextInt(random.nextBoolean() ? 7 : 5000), MAX);
            for (int f = 0; f < frames; f++) {
                FrameReader.Frame frame = assertInstanceOf(FrameReader.Frame.class, reader.next(), "seed " + seed + " round " + round);
                assertArrayEquals(expected.get(f), frame.payload(), "seed " + seed + " round " + round + " frame " + f);
            }
            assertInstanceOf(FrameReader.EndOfStream.class, reader.next(), "seed " + seed);
            assertEquals(junk, reader.junkBytes(), "seed " + seed + " round " + round);
        }
    }

    // --- helpers -------------------------------------------------------------------------

    /** A source delivering {@code stream} in chunks whose sizes {@code chunk} gives per read index. */
    static FrameReader reader(byte[] stream, IntUnaryOperator chunk, int max) {
        int[] position = {0};
        int[] readIndex = {0};
        return new FrameReader((buffer, offset, length, timeout) -> {
            if (position[0] >= stream.length) return -1;
            int n = Math.min(Math.min(length, chunk.applyAsInt(readIndex[0]++)), stream.length - position[0]);
            System.arraycopy(stream, position[0], buffer, offset, n);
            position[0] += n;
            return n;
        }, max, LONG, LONG, System::nanoTime);
    }

    private static List<String> readAll(FrameReader reader) throws IOException {
        List<String> frames = new ArrayList<>();
        while (reader.next() instanceof FrameReader.Frame frame) frames.add(new String(frame.payload(), StandardCharsets.ISO_8859_1));
        return frames;
    }

    private static void assertFrame(String expected, FrameReader.Result result) {
        assertEquals(expected, new String(assertInstanceOf(FrameReader.Frame.class, result).payload(), StandardCharsets.ISO_8859_1));
    }

    private static byte[] frame(String payload) {
        return concat(bytes(0x0B), ascii(payload), bytes(0x1C, 0x0D));
    }

    private static byte[] randomPayload(Random random, int length) {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            byte b;
            do {
                b = (byte) random.nextInt(256);
            } while (b == 0x1C);
            payload[i] = b;
        }
        return payload;
    }

    private static byte[] randomLetters(Random random, int length) {
        byte[] letters = new byte[length];
        for (int i = 0; i < length; i++) letters[i] = (byte) ('a' + random.nextInt(26));
        return letters;
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) out.writeBytes(part);
        return out.toByteArray();
    }
}
