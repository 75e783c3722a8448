package org.mllpserver.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per row of the recovery table in {@link Recovery}. */
class RecoveryTest {

    @TempDir
    Path dir;

    // Row: clean segments -> open the last for append at its end.
    @Test
    void cleanSegmentsOpenForAppendAtTheEnd() throws IOException {
        List<Long> positions = appendEach(List.of("a", "b", "c"));
        long end = fileSize(onlySegment());
        Recovered r = recover();
        assertEquals(positions, r.positions);
        assertEquals(end, r.end);
    }

    // Row: a torn tail in the last segment -> truncate at the batch start; every earlier record survives.
    @Test
    void aLastBatchCutAtEveryByteOffsetIsTruncatedAndEverythingBeforeItSurvives() throws IOException {
        List<Long> positions = appendEach(List.of("first", "second", "third", "fourth", "the last record, torn"));
        Path segment = onlySegment();
        byte[] whole = Files.readAllBytes(segment);
        long lastBatchStart = positions.getLast() - SegmentScanner.MARKER_BYTES;
        long sealStart = whole.length - SegmentScanner.MARKER_BYTES; // the clean close's empty batch
        for (long cut = lastBatchStart; cut < sealStart; cut++) { // a crash during the last write: no seal yet
            Files.write(segment, java.util.Arrays.copyOf(whole, (int) cut));
            Recovered r = recover();
            assertEquals(positions.subList(0, 4), r.positions, "cut at " + cut);
            assertEquals(lastBatchStart, r.end, "cut at " + cut);
            assertEquals(lastBatchStart + SegmentScanner.MARKER_BYTES, fileSize(segment), "truncated, then sealed by the close; cut at " + cut);
        }
        for (long cut = sealStart; cut < whole.length; cut++) { // a crash while sealing: the data is whole
            Files.write(segment, java.util.Arrays.copyOf(whole, (int) cut));
            assertEquals(positions, recover().positions, "cut at " + cut);
        }
    }

    @Test
    void aTornBatchOfSeveralRecordsIsDroppedWhole() throws IOException {
        Path segment = dir.resolve(SegmentFile.fileName(0));
        long secondBatch = writeSegment(segment, 0, List.of(List.of("one"), List.of("two", "three", "four")));
        byte[] whole = Files.readAllBytes(segment);
        for (long cut = secondBatch + 1; cut < whole.length; cut++) {
            Files.write(segment, java.util.Arrays.copyOf(whole, (int) cut));
            Recovered r = recover();
            assertEquals(1, r.positions.size(), "cut at " + cut);
            assertEquals(secondBatch, r.end);
        }
    }

    @Test
    void zerosAfterTheLastBatchAreATornTail() throws IOException {
        appendEach(List.of("a", "b"));
        Path segment = onlySegment();
        long end = fileSize(segment);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8192), end); // a file system that grew the file before the data arrived
        }
        Recovered r = recover();
        assertEquals(2, r.positions.size());
        assertEquals(end, r.end);
    }

    @Test
    void aLastBatchWithALostPageInTheMiddleIsATornTail() throws IOException {
        Path segment = dir.resolve(SegmentFile.fileName(0));
        long lastBatch = writeSegment(segment, 0, List.of(List.of("kept"), List.of("x".repeat(3000), "y".repeat(3000), "z".repeat(3000))));
        flip(segment, lastBatch + 4000); // writeback persisted later pages of the unforced batch but not this one
        Recovered r = recover();
        assertEquals(1, r.positions.size());
        assertEquals(lastBatch, r.end);
    }

    // Row: nothing but zeros after the last whole batch (preallocated space a crash left behind) -> truncate.
    @Test
    void theZerosAnOpenJournalPreallocatedAreRemovedAfterACrash() throws IOException {
        Path crashed = Files.createDirectory(dir.resolve("crashed"));
        List<Long> positions = new ArrayList<>();
        try (Journal journal = open(8 << 20)) {
            for (int i = 0; i < 3; i++) positions.add(journal.append(RecordType.MESSAGE, ("live " + i).getBytes(StandardCharsets.UTF_8)));
            for (Path file : Recovery.segmentFiles(dir)) Files.copy(file, crashed.resolve(file.getFileName())); // the disk at a crash
        }
        Path copy = Recovery.segmentFiles(crashed).getFirst();
        assertTrue(fileSize(copy) > positions.getLast() + 100, "the live file holds preallocated zeros: " + fileSize(copy));
        List<Long> recovered = new ArrayList<>();
        try (Journal journal = Journal.open(new Journal.Settings(crashed, 8 << 20, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, (position, type, body) -> recovered.add(position))) {
            assertEquals(positions, recovered);
            long end = journal.end();
            assertEquals(end, fileSize(copy), "truncated to the data");
            journal.append(RecordType.MESSAGE, "after".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(fileSize(Recovery.segmentFiles(dir).getFirst()), positions.getLast() + RecordFormat.size(6) + SegmentScanner.MARKER_BYTES,
                "a clean close seals the segment and cuts the preallocated zeros off");
    }

    @Test
    void aBatchTornInsidePreallocatedSpaceIsATornTail() throws IOException {
        Path segment = dir.resolve(SegmentFile.fileName(0));
        long lastBatch = writeSegment(segment, 0, List.of(List.of("kept"), List.of("torn in the middle")));
        byte[] whole = Files.readAllBytes(segment);
        byte[] crashed = java.util.Arrays.copyOf(whole, whole.length + 8192); // zeros after, as preallocation leaves them
        java.util.Arrays.fill(crashed, (int) lastBatch + 20, whole.length, (byte) 0); // the batch's end never reached the disk
        Files.write(segment, crashed);
        Recovered r = recover();
        assertEquals(1, r.positions.size());
        assertEquals(lastBatch, r.end);
    }

    // Row: a last segment shorter than its header (crash while it was created) -> write the header again.
    @Test
    void aLastSegmentCutInsideItsHeaderGetsItsHeaderBack() throws IOException {
        List<Long> positions = appendEach(List.of("a"));
        long end = fileSize(onlySegment());
        Path next = dir.resolve(SegmentFile.fileName(end));
        Files.write(next, new byte[]{'M', 'L', 'L'});
        Recovered r = recover();
        assertEquals(positions, r.positions);
        assertEquals(end + SegmentFile.HEADER_BYTES, r.end);
        assertEquals(SegmentFile.HEADER_BYTES + SegmentScanner.MARKER_BYTES, fileSize(next), "header, then the close's seal");
    }

    // Row: bad checksum or length anywhere else -> refuse to start with file and position.
    @Test
    void aBitFlipInTheMiddleOfAnEarlierSegmentRefusesToStart() throws IOException {
        try (Journal journal = open(64 * 1024)) {
            for (int i = 0; i < 150; i++) journal.append(RecordType.MESSAGE, ("record " + i + " " + "p".repeat(900)).getBytes(StandardCharsets.UTF_8));
        }
        List<Path> files = Recovery.segmentFiles(dir);
        assertTrue(files.size() >= 3);
        Path earlier = files.get(1);
        long base = SegmentFile.baseOf(earlier).orElseThrow();
        long middle = fileSize(earlier) / 2;
        long recordStart = recordContaining(earlier, base, middle);
        flip(earlier, middle);
        JournalDamagedException e = assertThrows(JournalDamagedException.class, this::recover);
        assertTrue(e.getMessage().contains(earlier.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("position " + recordStart), "position " + recordStart + " in: " + e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        assertTrue(e.getMessage().contains("restore this file from a backup"), "says what to do: " + e.getMessage());
    }

    @Test
    void aBitFlipInTheLastAcknowledgedBatchAfterACleanCloseRefusesToStart() throws IOException {
        List<Long> positions = appendEach(List.of("one", "two", "the last acknowledged"));
        flip(onlySegment(), positions.getLast() + 12);
        JournalDamagedException e = assertThrows(JournalDamagedException.class, this::recover);
        assertTrue(e.getMessage().contains("position " + positions.getLast()), "the seal after it shows it was whole: " + e.getMessage());
    }

    @Test
    void messageContentThatLooksLikeABatchMarkerCannotBlockRecoveryOfATornTail() throws IOException {
        // A sender's message holding a copy of a marker (valid without the segment's nonce) inside the torn last batch.
        ByteBuffer fake = ByteBuffer.allocate(SegmentScanner.MARKER_BYTES);
        RecordFormat.write(fake, RecordType.BATCH, RecordFormat.batchBody(0, 1L));
        String forged = new String(fake.array(), java.nio.charset.StandardCharsets.ISO_8859_1);
        Path segment = dir.resolve(SegmentFile.fileName(0));
        long lastBatch = writeSegment(segment, 0, List.of(List.of("kept"), List.of("MSH|" + forged + "|tail of the message")));
        flip(segment, lastBatch + SegmentScanner.MARKER_BYTES + 10); // torn before the forged bytes
        Recovered r = recover();
        assertEquals(1, r.positions.size());
        assertEquals(lastBatch, r.end);
    }

    @Test
    void damageInAnEarlierBatchOfTheLastSegmentRefusesToStart() throws IOException {
        List<Long> positions = appendEach(List.of("one", "two", "three"));
        flip(onlySegment(), positions.get(1) + 10);
        JournalDamagedException e = assertThrows(JournalDamagedException.class, this::recover);
        assertTrue(e.getMessage().contains("position " + positions.get(1)), e.getMessage());
        assertTrue(e.getMessage().contains("a whole batch follows it"), e.getMessage());
    }

    @Test
    void aDamagedLengthFieldRefusesToStart() throws IOException {
        List<Long> positions = appendEach(List.of("one", "two", "three"));
        flip(onlySegment(), positions.getFirst()); // the high byte of the first record's length
        assertThrows(JournalDamagedException.class, this::recover);
    }

    @Test
    void anUnknownRecordTypeRefusesToStart() throws IOException {
        Path segment = dir.resolve(SegmentFile.fileName(0));
        writeSegment(segment, 0, List.of(List.of("ok"), List.of("from the future"), List.of("ok")), (byte) 99);
        JournalDamagedException e = assertThrows(JournalDamagedException.class, this::recover);
        assertTrue(e.getMessage().contains("unknown record type 99"), e.getMessage());
    }

    // Row: segment files that do not follow each other, a wrong header -> refuse to start.
    @Test
    void aMissingSegmentRefusesToStart() throws IOException {
        try (Journal journal = open(64 * 1024)) {
            for (int i = 0; i < 150; i++) journal.append(RecordType.MESSAGE, new byte[1000]);
        }
        Path missing = Recovery.segmentFiles(dir).get(1);
        Files.delete(missing);
        JournalDamagedException e = assertThrows(JournalDamagedException.class, this::recover);
        assertTrue(e.getMessage().contains("a segment file is missing"), e.getMessage());
    }

    @Test
    void aWrongHeaderInAnEarlierSegmentRefusesToStart() throws IOException {
        try (Journal journal = open(64 * 1024)) {
            for (int i = 0; i < 150; i++) journal.append(RecordType.MESSAGE, new byte[1000]);
        }
        flip(Recovery.segmentFiles(dir).get(1), 2);
        JournalDamagedException e = assertThrows(JournalDamagedException.class, this::recover);
        assertTrue(e.getMessage().contains("MLLPJRN1"), e.getMessage());
    }

    @Test
    void readersSkipATornTailWithoutTouchingIt() throws IOException {
        List<Long> positions = appendEach(List.of("a", "b", "c"));
        Path segment = onlySegment();
        long size = fileSize(segment);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(positions.get(2) + 3); // inside the last data record
        }
        List<Long> read = new ArrayList<>();
        JournalReader.read(dir, 0, e -> read.add(e.position()));
        assertEquals(positions.subList(0, 2), read);
        assertEquals(positions.get(2) + 3, fileSize(segment), "a reader never truncates");
    }

    // --- helpers -------------------------------------------------------------------------

    record Recovered(List<Long> positions, long end) {}

    /** The nonce of hand-written segments. */
    private static final long NONCE = 0x5EED_1234_5678_9ABCL;

    private Recovered recover() throws IOException {
        List<Long> positions = new ArrayList<>();
        try (Journal journal = Journal.open(settings(64 * 1024), Clock.systemUTC(), ChannelFactory.DEFAULT,
                (position, type, body) -> positions.add(position))) {
            return new Recovered(positions, journal.end());
        }
    }

    private List<Long> appendEach(List<String> texts) throws IOException {
        List<Long> positions = new ArrayList<>();
        try (Journal journal = open(1 << 20)) {
            for (String text : texts) positions.add(journal.append(RecordType.MESSAGE, text.getBytes(StandardCharsets.UTF_8)));
        }
        return positions;
    }

    private Journal open(long segmentBytes) throws IOException {
        return Journal.open(settings(segmentBytes), Clock.systemUTC(), ChannelFactory.DEFAULT, RecordVisitor.NONE);
    }

    private Journal.Settings settings(long segmentBytes) {
        return new Journal.Settings(dir, segmentBytes, Duration.ofDays(7));
    }

    private Path onlySegment() throws IOException {
        List<Path> files = Recovery.segmentFiles(dir);
        assertEquals(1, files.size());
        return files.getFirst();
    }

    private static long fileSize(Path file) throws IOException {
        return Files.size(file);
    }

    private static void flip(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
            ch.write(b, offset);
        }
    }

    /** The position of the record (or batch marker) whose bytes include file offset {@code offset}. */
    private static long recordContaining(Path file, long base, long offset) throws IOException {
        long[] found = {-1};
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long nonce = SegmentScanner.readHeader(ch, base, ch.size()).nonce();
            SegmentScanner.scan(ch, base, nonce, ch.size(), (records, writtenAt) -> {
                for (SegmentScanner.ScannedRecord r : records) {
                    long start = r.position() - base;
                    if (offset >= start && offset < start + RecordFormat.size(r.body().length)) found[0] = r.position();
                }
            });
        }
        if (found[0] < 0) throw new AssertionError("offset " + offset + " is in a batch marker; pick another");
        return found[0];
    }

    /** Writes a segment by hand, batch by batch; returns the file offset where the last batch starts. */
    static long writeSegment(Path file, long base, List<List<String>> batches) throws IOException {
        return writeSegment(file, base, batches, RecordType.MESSAGE.code());
    }

    private static long writeSegment(Path file, long base, List<List<String>> batches, byte middleType) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(1 << 20);
        out.put(SegmentFile.header(base, NONCE));
        long lastBatch = 0;
        for (int b = 0; b < batches.size(); b++) {
            lastBatch = out.position();
            List<byte[]> bodies = batches.get(b).stream().map(t -> t.getBytes(StandardCharsets.UTF_8)).toList();
            long length = bodies.stream().mapToLong(x -> RecordFormat.size(x.length)).sum();
            RecordFormat.writeMarker(out, NONCE, length, 1_700_000_000_000L);
            for (byte[] body : bodies) {
                int start = out.position();
                RecordFormat.write(out, RecordType.MESSAGE, body);
                if (b == 1 && middleType != RecordType.MESSAGE.code()) { // a type this version does not know
                    out.put(start + 8, middleType);
                    out.putInt(start + 4, RecordFormat.crc(out, start, 1 + body.length));
                }
            }
        }
        out.flip();
        Files.write(file, java.util.Arrays.copyOf(out.array(), out.limit()));
        return lastBatch;
    }
}
