package org.mllpserver.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.testing.FaultyDisk;
import org.mllpserver.testing.MutableClock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mllpserver.audit.AuditFixtures.START;

/** The writer under load from many threads, after an Error, and with a disk that stops answering. */
class AuditWriterTest {

    @TempDir
    Path dir;

    @Test
    void eventsFromManyThreadsAtOnceAreAllWrittenInOneChain() throws Exception {
        long seed = System.nanoTime();
        System.out.println("AuditWriterTest seed " + seed);
        Random random = new Random(seed);
        int threads = 32;
        int perThread = 400;
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < threads * perThread; i++) ids.add(new UUID(random.nextLong(), random.nextLong()));
        CountDownLatch start = new CountDownLatch(1);
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.MIN_SEGMENT_BYTES * 4, new MutableClock(START))) {
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * perThread;
                workers.add(Thread.ofVirtual().start(() -> {
                    awaitQuietly(start);
                    for (int i = first; i < first + perThread; i++) {
                        audit.frameAnswered(AuditFixtures.accepted(START, "T" + i, ids.get(i), i, AuditFixtures.payload("T" + i)));
                    }
                }));
            }
            start.countDown();
            for (Thread worker : workers) worker.join();
            audit.flush();
            AuditLog.Stats stats = audit.stats();
            assertEquals(threads * perThread, stats.written());
            assertTrue(stats.writes() < stats.written(), "group commit: " + stats.writes() + " writes for " + stats.written() + " records");
        }
        Set<UUID> seen = new HashSet<>();
        for (AuditRecord r : AuditFixtures.all(dir)) if (r.kind() == AuditKind.ACCEPTED) assertTrue(seen.add(r.event().stored().recordId().orElseThrow()));
        assertEquals(new HashSet<>(ids), seen, "every event once, seed " + seed);
        Verification result = AuditReader.verify(dir);
        assertInstanceOf(Verification.Intact.class, result, result.summary());
        assertTrue(AuditFixtures.segments(dir).size() > 1, "the chain crosses segments");
    }

    @Test
    void theWriterSurvivesAnErrorAndWritesTheRecordsAgain() throws Exception {
        OneErrorDisk disk = new OneErrorDisk();
        try (AuditLog audit = AuditLog.open(AuditFixtures.settings(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES), new MutableClock(START), disk)) {
            audit.frameAnswered(AuditFixtures.accepted(START, "before", UUID.randomUUID(), 0, new byte[1]));
            audit.flush();
            disk.armed.set(true);
            for (int i = 0; i < 10; i++) audit.frameAnswered(AuditFixtures.accepted(START, "during-" + i, UUID.randomUUID(), i, new byte[1]));
            audit.flush(); // returns once the writer has met the Error, paused, and written them after all
            assertEquals(1, audit.stats().failedWrites());
            assertEquals(11, audit.stats().written());
            audit.frameAnswered(AuditFixtures.accepted(START, "after", UUID.randomUUID(), 99, new byte[1]));
        }
        List<String> controlIds = AuditFixtures.all(dir).stream().filter(r -> r.kind() == AuditKind.ACCEPTED)
                .map(r -> r.event().header().controlId()).toList();
        assertEquals(12, controlIds.size());
        assertEquals("after", controlIds.getLast());
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(dir), "the half-written write was cut before the retry");
    }

    /** A full queue holds its callers (backpressure); nothing is dropped, and they go on when the disk does. */
    @Test
    void aFullQueueMakesCallersWaitAndDropsNothing() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        int events = AuditLog.MAX_QUEUED_EVENTS + AuditLog.MAX_WRITE_EVENTS + 100;
        try (AuditLog audit = AuditLog.open(AuditFixtures.settings(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES), new MutableClock(START), disk)) {
            disk.fail(FaultyDisk.Fault.HANG); // the next force blocks until healed
            Thread producer = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < events; i++) audit.frameAnswered(AuditFixtures.accepted(START, "Q" + i, UUID.randomUUID(), i, null));
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (audit.stats().producerWaits() == 0 && System.nanoTime() < deadline) Thread.onSpinWait(); // until it waits for room
            assertEquals(1, audit.stats().producerWaits(), "the caller waits for room instead of the record being dropped");
            assertTrue(producer.isAlive());
            assertTrue(audit.writerProblem(Duration.ZERO).isPresent(), "liveness sees the writer stuck on one write");
            disk.heal();
            producer.join();
            audit.flush();
            assertEquals(events, audit.stats().written());
            assertEquals(0, audit.stats().notRecorded());
        }
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(dir));
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Real files; once armed, the next write writes half its bytes and throws an Error (not an IOException). */
    static final class OneErrorDisk implements ChannelFactory {
        final AtomicBoolean armed = new AtomicBoolean();

        @Override
        public FileChannel open(Path path, OpenOption... options) throws IOException {
            return new Channel(FileChannel.open(path, options));
        }

        private final class Channel extends FileChannel {
            private final FileChannel real;

            Channel(FileChannel real) {
                this.real = real;
            }

            @Override
            public int write(ByteBuffer src, long position) throws IOException {
                if (armed.compareAndSet(true, false)) {
                    real.write(src.slice(src.position(), src.remaining() / 2), position);
                    throw new OutOfMemoryError("injected: an Error halfway through a write");
                }
                return real.write(src, position);
            }

            @Override public int read(ByteBuffer dst) throws IOException { return real.read(dst); }
            @Override public long read(ByteBuffer[] dsts, int offset, int length) throws IOException { return real.read(dsts, offset, length); }
            @Override public int write(ByteBuffer src) throws IOException { return write(src, real.position()); }
            @Override public long write(ByteBuffer[] srcs, int offset, int length) { throw new UnsupportedOperationException(); }
            @Override public long position() throws IOException { return real.position(); }
            @Override public FileChannel position(long newPosition) throws IOException { real.position(newPosition); return this; }
            @Override public long size() throws IOException { return real.size(); }
            @Override public FileChannel truncate(long size) throws IOException { real.truncate(size); return this; }
            @Override public void force(boolean metaData) throws IOException { real.force(metaData); }
            @Override public long transferTo(long position, long count, WritableByteChannel target) throws IOException { return real.transferTo(position, count, target); }
            @Override public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException { return real.transferFrom(src, position, count); }
            @Override public int read(ByteBuffer dst, long position) throws IOException { return real.read(dst, position); }
            @Override public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException { return real.map(mode, position, size); }
            @Override public FileLock lock(long position, long size, boolean shared) throws IOException { return real.lock(position, size, shared); }
            @Override public FileLock tryLock(long position, long size, boolean shared) throws IOException { return real.tryLock(position, size, shared); }
            @Override protected void implCloseChannel() throws IOException { real.close(); }
        }
    }
}
