package org.mllpserver.audit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.testing.MutableClock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mllpserver.audit.AuditFixtures.START;

/**
 * Each way of tampering with a closed audit is caught by verify, at the right file and sequence
 * number: an edited byte (with and without its checksum made good again), a deleted record, two
 * records swapped, a segment cut short (mid-record and at a record boundary), a deleted middle
 * segment, the oldest segment deleted by hand.
 */
class AuditVerifyTest {

    private static final int EVENTS = 900;
    private static final int EVENTS_PER_WRITE = 50;

    @TempDir
    Path dir;
    @TempDir
    Path elsewhere;
    List<Path> segments;

    @BeforeEach
    void writeAnAuditOfSeveralSegments() throws IOException {
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.MIN_SEGMENT_BYTES, new MutableClock(START))) {
            for (int i = 0; i < EVENTS; i++) {
                audit.frameAnswered(AuditFixtures.accepted(START.plusSeconds(i), "CTRL-" + i, UUID.randomUUID(), 1000L * i,
                        AuditFixtures.payload("CTRL-" + i)));
                if (i % EVENTS_PER_WRITE == EVENTS_PER_WRITE - 1) audit.flush(); // several writes, not one
            }
        }
        segments = AuditFixtures.segments(dir);
        assertTrue(segments.size() >= 4, "the test needs at least 4 segments, has " + segments.size());
        Verification.Intact intact = assertInstanceOf(Verification.Intact.class, AuditReader.verify(dir));
        assertEquals(EVENTS + segments.size() + 1, intact.records(), "the events, a segment_started per segment, the seal");
    }

    @Test
    void anEditedByteInAClosedSegment() throws IOException {
        AuditFixtures.Located victim = AuditFixtures.located(segments.get(1)).get(10);
        flipByte(victim.file(), victim.offset() + victim.framedBytes() / 2);
        assertBreak(segments.get(1), victim.record().seq(), "checksum");
    }

    @Test
    void anEditedByteWhoseChecksumWasMadeGoodAgain() throws IOException {
        AuditFixtures.Located victim = AuditFixtures.located(segments.get(1)).get(10);
        byte[] bytes = AuditFixtures.read(victim.file());
        String controlId = victim.record().event().header().controlId();
        int at = indexOf(bytes, controlId.getBytes(java.nio.charset.StandardCharsets.US_ASCII), (int) victim.offset());
        assertTrue(at < victim.offset() + victim.framedBytes());
        bytes[at + 5] ^= 1; // CTRL-327 becomes CTRL-027: a plausible edit
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        buffer.putInt((int) victim.offset() + 4, AuditFormat.crc(buffer, (int) victim.offset(), AuditFixtures.nonceOf(victim.file())));
        AuditFixtures.write(victim.file(), bytes);
        assertBreak(segments.get(1), victim.record().seq() + 1, "as the record before it");
    }

    @Test
    void anEditedByteInTheLastSegmentIsDamageNotATornWrite() throws IOException {
        List<AuditFixtures.Located> records = AuditFixtures.located(segments.getLast());
        AuditFixtures.Located victim = records.get(records.size() / 2);
        flipByte(victim.file(), victim.offset() + victim.framedBytes() / 2);
        assertBreak(segments.getLast(), victim.record().seq(), "a record written after it");
    }

    @Test
    void aDeletedRecord() throws IOException {
        AuditFixtures.Located victim = AuditFixtures.located(segments.get(2)).get(20);
        byte[] bytes = AuditFixtures.read(victim.file());
        byte[] without = new byte[bytes.length - victim.framedBytes()];
        System.arraycopy(bytes, 0, without, 0, (int) victim.offset());
        System.arraycopy(bytes, (int) victim.offset() + victim.framedBytes(), without, (int) victim.offset(),
                bytes.length - (int) victim.offset() - victim.framedBytes());
        AuditFixtures.write(victim.file(), without);
        assertBreak(segments.get(2), victim.record().seq(), "has sequence number " + (victim.record().seq() + 1));
    }

    @Test
    void twoRecordsSwapped() throws IOException {
        List<AuditFixtures.Located> records = AuditFixtures.located(segments.get(1));
        AuditFixtures.Located a = records.get(30);
        AuditFixtures.Located b = records.get(31);
        byte[] bytes = AuditFixtures.read(a.file());
        byte[] swapped = bytes.clone();
        System.arraycopy(bytes, (int) b.offset(), swapped, (int) a.offset(), b.framedBytes());
        System.arraycopy(bytes, (int) a.offset(), swapped, (int) a.offset() + b.framedBytes(), a.framedBytes());
        AuditFixtures.write(a.file(), swapped);
        assertBreak(segments.get(1), a.record().seq(), "has sequence number " + b.record().seq());
    }

    @Test
    void aSegmentCutShortInTheMiddleOfARecord() throws IOException {
        Path victim = segments.get(1);
        AuditFixtures.Located cut = AuditFixtures.located(victim).get(40);
        truncate(victim, cut.offset() + 17);
        assertBreak(victim, cut.record().seq(), "cut short");
    }

    @Test
    void aSegmentCutShortAtARecordBoundary() throws IOException {
        Path victim = segments.get(1);
        AuditFixtures.Located cut = AuditFixtures.located(victim).get(40);
        truncate(victim, cut.offset());
        assertBreak(segments.get(2), cut.record().seq(), "are missing");
    }

    @Test
    void aDeletedMiddleSegment() throws IOException {
        long missingFrom = AuditFormat.firstSeqOf(segments.get(2)).orElseThrow();
        Files.delete(segments.get(2));
        assertBreak(segments.get(3), missingFrom, "are missing");
    }

    @Test
    void theOldestSegmentDeletedByHand() throws IOException {
        Files.delete(segments.getFirst());
        assertBreak(segments.get(1), AuditFormat.firstSeqOf(segments.get(1)).orElseThrow(), "no segment_deleted record");
    }

    @Test
    void aSegmentFromAnotherAuditPutInPlaceOfOne() throws IOException {
        Path other = elsewhere.resolve("other-audit");
        try (AuditLog audit = AuditFixtures.open(other, AuditLog.Settings.MIN_SEGMENT_BYTES, new MutableClock(START))) {
            for (int i = 0; i < EVENTS; i++) audit.frameAnswered(AuditFixtures.accepted(START, "X" + i, UUID.randomUUID(), i, new byte[8]));
        }
        Files.copy(AuditFixtures.segments(other).get(1), segments.get(1), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Verification result = AuditReader.verify(dir);
        Verification.Broken broken = assertInstanceOf(Verification.Broken.class, result, result.summary());
        assertEquals(segments.get(1), broken.file(), "its header or its first record gives it away: " + broken.summary());
    }

    private void assertBreak(Path file, long seq, String problem) throws IOException {
        Verification result = AuditReader.verify(dir);
        Verification.Broken broken = assertInstanceOf(Verification.Broken.class, result, result.summary());
        assertEquals(file.getFileName(), broken.file().getFileName(), broken.summary());
        assertEquals(seq, broken.seq(), broken.summary());
        assertTrue(broken.problem().contains(problem), broken.summary());
        assertTrue(broken.summary().startsWith("chain broken in " + file.getFileName() + " at sequence number " + seq + ": "), broken.summary());
    }

    private static void flipByte(Path file, long offset) throws IOException {
        byte[] bytes = AuditFixtures.read(file);
        bytes[(int) offset] ^= 0x20;
        AuditFixtures.write(file, bytes);
    }

    private static void truncate(Path file, long size) throws IOException {
        byte[] bytes = AuditFixtures.read(file);
        AuditFixtures.write(file, Arrays.copyOf(bytes, (int) size));
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
