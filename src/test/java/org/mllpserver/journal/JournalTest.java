package org.mllpserver.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.testing.MutableClock;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalTest {

    @TempDir
    Path dir;

    @Test
    void appendsAndReadsBackInOrderAcrossReopen() throws IOException {
        List<Long> positions = new ArrayList<>();
        try (Journal journal = open(1 << 20)) {
            for (int i = 0; i < 100; i++) positions.add(journal.append(RecordType.MESSAGE, body("record " + i)));
        }
        List<JournalReader.Entry> read = readAll();
        assertEquals(100, read.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(positions.get(i), read.get(i).position());
            assertArrayEquals(body("record " + i), read.get(i).body());
        }
        List<Long> visited = new ArrayList<>();
        try (Journal journal = Journal.open(settings(1 << 20), Clock.systemUTC(), ChannelFactory.DEFAULT,
                (position, type, body) -> visited.add(position))) {
            assertEquals(positions, visited, "recovery visits every record once, in order");
            long next = journal.append(RecordType.MESSAGE, body("after reopen"));
            assertTrue(next > positions.getLast());
        }
    }

    @Test
    void groupCommitGivesEveryConcurrentAppenderItsOwnDurablePosition() throws Exception {
        int threads = 16;
        int perThread = 200;
        Map<Long, String> written = new ConcurrentHashMap<>();
        try (Journal journal = open(1 << 20); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        String text = thread + "/" + i;
                        written.put(journal.append(RecordType.MESSAGE, body(text)), text);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
            assertEquals(threads * perThread, written.size(), "positions are unique");
            assertTrue(journal.stats().batches() < journal.stats().records(),
                    "some forces covered several records: " + journal.stats().batches() + " batches for " + journal.stats().records());
        }
        Map<Long, String> read = new java.util.HashMap<>();
        for (JournalReader.Entry e : readAll()) read.put(e.position(), new String(e.body(), StandardCharsets.UTF_8));
        assertEquals(written, read);
    }

    @Test
    void rollsSegmentsNamedByTheirFirstPosition() throws IOException {
        long segmentBytes = 64 * 1024;
        byte[] kilobyte = new byte[1024];
        try (Journal journal = open(segmentBytes)) {
            for (int i = 0; i < 200; i++) journal.append(RecordType.MESSAGE, kilobyte);
        }
        List<Path> files = Recovery.segmentFiles(dir);
        assertTrue(files.size() >= 3, files.toString());
        long expectedBase = 0;
        for (Path file : files) {
            assertEquals(SegmentFile.fileName(expectedBase), file.getFileName().toString());
            long size = Files.size(file);
            assertTrue(size <= segmentBytes || file.equals(files.getLast()), file + " is " + size + " bytes");
            expectedBase += size;
        }
        assertEquals(200, readAll().size());
        try (Journal journal = open(segmentBytes)) {
            assertEquals(expectedBase, journal.end());
        }
    }

    @Test
    void aRecordLargerThanASegmentGetsASegmentToItself() throws IOException {
        try (Journal journal = open(64 * 1024)) {
            journal.append(RecordType.MESSAGE, body("small"));
            journal.append(RecordType.MESSAGE, new byte[200_000]);
            journal.append(RecordType.MESSAGE, body("after"));
        }
        assertEquals(3, readAll().size());
        assertEquals(3, Recovery.segmentFiles(dir).size());
    }

    @Test
    void aReaderRunningWhileTheJournalAppendsAndRollsSeesWholeBatchesOnly() throws Exception {
        int records = 600;
        try (Journal journal = open(64 * 1024); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> writer = pool.submit(() -> {
                for (int i = 0; i < records; i++) journal.append(RecordType.MESSAGE, body(i + " " + "r".repeat(i % 7 * 300)));
                return null;
            });
            int reads = 0;
            while (!writer.isDone() || reads == 0) {
                List<Long> positions = new ArrayList<>();
                JournalReader.read(dir, 0, e -> positions.add(e.position())); // never throws on the live tail
                for (int i = 1; i < positions.size(); i++) assertTrue(positions.get(i) > positions.get(i - 1));
                reads++;
            }
            writer.get();
            assertTrue(reads > 1, "read while writing: " + reads);
        }
        assertEquals(records, readAll().size());
    }

    @Test
    void closingTwiceIsHarmless() throws IOException {
        Journal journal = open(1 << 20);
        journal.append(RecordType.MESSAGE, body("one"));
        journal.close();
        journal.close();
        assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, body("after close")));
    }

    @Test
    void aSecondOpenOfTheSameDirectoryIsRefused() throws IOException {
        try (Journal journal = open(1 << 20)) {
            JournalLockedException e = assertThrows(JournalLockedException.class, () -> open(1 << 20));
            assertTrue(e.getMessage().contains("in use by another process"));
        }
        try (Journal again = open(1 << 20)) {
            again.append(RecordType.MESSAGE, body("after the first closed"));
        }
    }

    @Test
    void deletesOnlyClosedSegmentsWhoseNewestRecordIsOlderThanRetention() throws IOException {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-01T00:00:00Z"));
        Journal.Settings settings = new Journal.Settings(dir, 64 * 1024, Duration.ofDays(7));
        try (Journal journal = Journal.open(settings, clock, ChannelFactory.DEFAULT, RecordVisitor.NONE)) {
            for (int i = 0; i < 100; i++) journal.append(RecordType.MESSAGE, new byte[1024]); // two closed segments, day 0
            clock.advance(Duration.ofDays(3));
            for (int i = 0; i < 100; i++) journal.append(RecordType.MESSAGE, new byte[1024]); // more segments, day 3
            int before = Recovery.segmentFiles(dir).size();
            clock.advance(Duration.ofDays(6)); // day 9: day-0 segments are 9 days old, day-3 ones 6
            int deleted = journal.deleteExpired();
            assertTrue(deleted >= 1, "the day-0 segments go");
            assertEquals(before - deleted, Recovery.segmentFiles(dir).size());
            clock.advance(Duration.ofDays(30));
            journal.deleteExpired();
            assertEquals(1, Recovery.segmentFiles(dir).size(), "the active segment is never deleted");
            journal.append(RecordType.MESSAGE, body("still appending"));
        }
        try (Journal reopened = Journal.open(settings, clock, ChannelFactory.DEFAULT, RecordVisitor.NONE)) {
            reopened.append(RecordType.MESSAGE, body("reopens after deletions: the first segment need not start at 0"));
        }
    }

    @Test
    void aSegmentACursorHasNotPassedIsKeptHoweverOld() throws IOException {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-01T00:00:00Z"));
        Journal.Settings settings = new Journal.Settings(dir, 64 * 1024, Duration.ofDays(7));
        try (Journal journal = Journal.open(settings, clock, ChannelFactory.DEFAULT, RecordVisitor.NONE)) {
            List<Long> positions = new java.util.ArrayList<>();
            for (int i = 0; i < 300; i++) positions.add(journal.append(RecordType.MESSAGE, new byte[1024]));
            int segments = Recovery.segmentFiles(dir).size();
            assertTrue(segments >= 4, segments + " segments");
            clock.advance(Duration.ofDays(30));
            long cursor = positions.get(100) + 1; // a connector has delivered up to record 100
            int deleted = journal.deleteExpired(cursor);
            assertTrue(deleted >= 1, "segments wholly before the cursor go");
            for (Path file : Recovery.segmentFiles(dir)) {
                assertTrue(SegmentFile.baseOf(file).orElseThrow() + java.nio.file.Files.size(file) > cursor
                        || file.equals(Recovery.segmentFiles(dir).getLast()), "kept only from the cursor's segment on: " + file);
            }
            long firstKept = SegmentFile.baseOf(Recovery.segmentFiles(dir).getFirst()).orElseThrow();
            assertTrue(firstKept <= positions.get(100), "the cursor's own segment is kept");
            assertEquals(0, journal.deleteExpired(firstKept), "a cursor at a segment's start keeps it");
            List<Long> readable = new java.util.ArrayList<>();
            JournalReader.read(dir, cursor, e -> readable.add(e.position()));
            assertEquals(positions.subList(101, 300), readable, "everything from the cursor on is still there");
        }
    }

    @Test
    void deadLetterBodiesRoundTrip() {
        RecordIds ids = new RecordIds(Clock.systemUTC(), new Random(7));
        StoredMessage message = new StoredMessage(ids.next(), Instant.parse("2026-11-22T10:15:30.123Z"), "/10.0.0.1:5000", "",
                "LAB", "HOSP", "ORU^R01", "MSG-9", "UTF-8", List.of("ehr"), "MSH|x".getBytes(StandardCharsets.UTF_8));
        DeadLetter dead = new DeadLetter(ids.next(), Instant.parse("2026-11-23T01:02:03.004Z"), "ehr", 10, "HTTP 503 from ehr.example.com",
                4242, message);
        DeadLetter back = DeadLetter.decode(dead.encode());
        assertEquals(dead.id(), back.id());
        assertEquals(dead.at(), back.at());
        assertEquals(List.of("ehr", "10", "HTTP 503 from ehr.example.com", "4242"),
                List.of(back.connector(), String.valueOf(back.attempts()), back.lastError(), String.valueOf(back.recordPosition())));
        assertEquals(message, back.message());
        DeadLetterResolution resolution = new DeadLetterResolution(dead.id(), 1234, Instant.parse("2026-11-24T00:00:00Z"), "purged");
        assertEquals(resolution, DeadLetterResolution.decode(resolution.encode()));
    }

    @Test
    void messageAndRefusedFrameBodiesRoundTrip() {
        RecordIds ids = new RecordIds(Clock.systemUTC(), new Random(5));
        StoredMessage message = new StoredMessage(ids.next(), Instant.parse("2026-11-22T10:15:30.123Z"), "/10.0.0.1:5000", "CN=lab",
                "LAB^1.2^ISO", "HOSP", "ORU^R01^ORU_R01", "MSG-1", "UTF-8", List.of("ehr", "archive"), "MSH|é".getBytes(StandardCharsets.UTF_8));
        assertEquals(message, StoredMessage.decode(message.encode()));
        RefusedFrame refused = new RefusedFrame(ids.next(), Instant.now(), "/10.0.0.1:5000", "", "X", "203 bad version", new byte[]{0, 1, 2});
        assertEquals(refused, RefusedFrame.decode(refused.encode()));
        assertThrows(IllegalArgumentException.class, () -> StoredMessage.decode(new byte[]{1, 2, 3}));
    }

    @Test
    void recordIdsAreVersion7AndTimeOrdered() {
        MutableClock clock = new MutableClock(Instant.ofEpochMilli(1_700_000_000_000L));
        RecordIds ids = new RecordIds(clock, new Random(9));
        UUID first = ids.next();
        clock.advance(Duration.ofMillis(1));
        UUID second = ids.next();
        assertEquals(7, first.version());
        assertEquals(2, first.variant());
        assertEquals(1_700_000_000_000L, first.getMostSignificantBits() >>> 16);
        assertTrue(first.toString().compareTo(second.toString()) < 0);
    }

    // --- helpers -------------------------------------------------------------------------

    private Journal open(long segmentBytes) throws IOException {
        return Journal.open(settings(segmentBytes), Clock.systemUTC(), ChannelFactory.DEFAULT, RecordVisitor.NONE);
    }

    private Journal.Settings settings(long segmentBytes) {
        return new Journal.Settings(dir, segmentBytes, Duration.ofDays(7));
    }

    private List<JournalReader.Entry> readAll() throws IOException {
        List<JournalReader.Entry> entries = new ArrayList<>();
        JournalReader.read(dir, 0, entries::add);
        return entries;
    }

    static byte[] body(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
