package org.mllpserver.audit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.testing.MutableClock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mllpserver.audit.AuditFixtures.START;

/**
 * One test per row of the opening table in {@link AuditLog}'s javadoc. A crash is what the files
 * look like when the writer was killed: a copy taken while it was idle (no seal), with the last
 * write appended by hand, cut or damaged as a power cut would.
 */
class AuditRecoveryTableTest {

    private static final int EVENTS = 20;

    @TempDir
    Path root;
    Path running;
    Path crashed;
    MutableClock clock = new MutableClock(START);
    /** The crashed copy's last segment, its nonce, and the chain's end there. */
    Path lastSegment;
    long nonce;
    long nextSeq;
    Sha256 lastHash;

    @BeforeEach
    void crashAfterSomeWrites() throws IOException {
        running = root.resolve("running");
        try (AuditLog audit = AuditFixtures.open(running, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            for (int i = 0; i < EVENTS; i++) audit.frameAnswered(AuditFixtures.accepted(START, "C" + i, UUID.randomUUID(), i, new byte[]{1}));
            audit.flush();
            crashed = AuditFixtures.copy(running, root.resolve("crashed")); // the writer is idle: this is what SIGKILL would leave
        }
        lastSegment = AuditFixtures.segments(crashed).getLast();
        nonce = AuditFixtures.nonceOf(lastSegment);
        AuditRecord last = AuditFixtures.located(lastSegment).getLast().record();
        nextSeq = last.seq() + 1;
        lastHash = last.hash();
    }

    @Test
    void noSegmentIsAFirstStart() throws IOException {
        Path fresh = root.resolve("fresh");
        try (AuditLog audit = AuditFixtures.open(fresh, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(-1, audit.head().seq());
        }
        assertTrue(Files.exists(fresh.resolve("00000000000000000000.audit")));
        assertEquals(List.of(AuditKind.SEGMENT_STARTED, AuditKind.AUDIT_CLOSED), AuditFixtures.all(fresh).stream().map(AuditRecord::kind).toList());
    }

    @Test
    void aCleanSegmentIsAppendedTo() throws IOException {
        try (AuditLog audit = AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(nextSeq - 1, audit.head().seq());
        }
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(crashed));
    }

    /** The last write cut at every byte: never called tampering, repaired at open, reported by verify. */
    @Test
    void aTornLastWriteCutAtEveryByteIsRepairedAndReported() throws IOException {
        byte[] write = craftWrite(nextSeq, lastHash, nextSeq, 3);
        List<Integer> boundaries = recordEnds(write);
        for (int c = 1; c < write.length; c++) {
            int cut = c;
            Path copy = AuditFixtures.copy(crashed, root.resolve("cut-" + cut));
            Path last = copy.resolve(lastSegment.getFileName());
            append(last, Arrays.copyOf(write, cut));
            int whole = (int) boundaries.stream().filter(end -> end <= cut).count();
            boolean torn = !boundaries.contains(cut);

            Verification before = AuditReader.verify(copy);
            Verification.Intact seen = assertInstanceOf(Verification.Intact.class, before, "cut at " + cut + ": " + before.summary());
            assertEquals(torn, seen.notes().stream().anyMatch(n -> n.contains("incomplete write")), "cut at " + cut);

            try (AuditLog audit = AuditFixtures.open(copy, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
                audit.flush();
                assertEquals(nextSeq - 1 + whole + (torn ? 1 : 0), audit.head().seq(), "cut at " + cut + ": the whole records stay, then tail_repaired");
            }
            Verification after = AuditReader.verify(copy);
            Verification.Intact intact = assertInstanceOf(Verification.Intact.class, after, "cut at " + cut + ": " + after.summary());
            assertEquals(torn, intact.notes().stream().anyMatch(n -> n.startsWith("torn tail repaired")), "cut at " + cut + ": " + intact.notes());
            List<AuditKind> kinds = AuditFixtures.all(copy).stream().map(AuditRecord::kind).toList();
            assertEquals(torn ? 1 : 0, kinds.stream().filter(k -> k == AuditKind.TAIL_REPAIRED).count());
        }
    }

    /** Sectors of the unforced write reached the disk out of order: a later record of it whole, an earlier one not. */
    @Test
    void aTornWriteWithALaterRecordOfTheSameWriteWholeIsStillTorn() throws IOException {
        byte[] write = craftWrite(nextSeq, lastHash, nextSeq, 3);
        int firstEnd = recordEnds(write).getFirst();
        Arrays.fill(write, 0, firstEnd, (byte) 0); // the first record's sector never written
        append(lastSegment, write);
        Verification.Intact seen = assertInstanceOf(Verification.Intact.class, AuditReader.verify(crashed));
        assertTrue(seen.notes().stream().anyMatch(n -> n.contains("incomplete write")), seen.notes().toString());
        try (AuditLog audit = AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            audit.flush();
            assertEquals(nextSeq, audit.head().seq(), "cut at the first record that is not whole, then tail_repaired");
        }
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(crashed));
    }

    @Test
    void zerosAfterTheLastWriteAreATornWrite() throws IOException {
        append(lastSegment, new byte[4096]);
        try (AuditLog audit = AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            audit.flush();
            assertEquals(nextSeq, audit.head().seq(), "the zeros cut, tail_repaired written");
        }
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(crashed));
    }

    @Test
    void aBadRecordFollowedByALaterWriteIsRefused() throws IOException {
        byte[] first = craftWrite(nextSeq, lastHash, nextSeq, 1);
        AuditRecord firstRecord = decode(first);
        byte[] second = craftWrite(nextSeq + 1, firstRecord.hash(), nextSeq + 1, 1);
        first[first.length / 2] ^= 0x01;
        append(lastSegment, first);
        append(lastSegment, second);
        AuditDamagedException refused = assertThrows(AuditDamagedException.class,
                () -> AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock));
        assertTrue(refused.getMessage().contains("a whole record written after it"), refused.getMessage());
        assertTrue(refused.getMessage().contains("To recover"), refused.getMessage());
        assertInstanceOf(Verification.Broken.class, AuditReader.verify(crashed));
    }

    @Test
    void damageToTheLastDataWriteAfterACleanCloseIsRefusedNotRepaired() throws IOException {
        List<AuditFixtures.Located> records = AuditFixtures.located(AuditFixtures.segments(running).getLast());
        assertEquals(AuditKind.AUDIT_CLOSED, records.getLast().record().kind());
        AuditFixtures.Located lastEvent = records.get(records.size() - 2);
        byte[] bytes = AuditFixtures.read(lastEvent.file());
        bytes[(int) lastEvent.offset() + lastEvent.framedBytes() - 3] ^= 0x01;
        AuditFixtures.write(lastEvent.file(), bytes);
        assertThrows(AuditDamagedException.class, () -> AuditFixtures.open(running, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock));
        Verification.Broken broken = assertInstanceOf(Verification.Broken.class, AuditReader.verify(running));
        assertEquals(lastEvent.record().seq(), broken.seq());
    }

    @Test
    void aSequenceNumberOutOfPlaceInTheLastSegmentIsRefused() throws IOException {
        append(lastSegment, craftWrite(nextSeq + 1, lastHash, nextSeq + 1, 1)); // one record skipped
        AuditDamagedException refused = assertThrows(AuditDamagedException.class,
                () -> AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock));
        assertTrue(refused.getMessage().contains("sequence number " + (nextSeq + 1)), refused.getMessage());
    }

    @Test
    void aLastSegmentWithoutARecordIsStartedAgainAfterTheOneBefore() throws IOException {
        Path started = crashed.resolve(AuditFormat.fileName(nextSeq));
        Files.write(started, Arrays.copyOf(AuditFormat.header(nextSeq, 42).array(), AuditFormat.HEADER_BYTES));
        try (AuditLog audit = AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(nextSeq - 1, audit.head().seq());
            audit.frameAnswered(AuditFixtures.accepted(START, "after", UUID.randomUUID(), 99, new byte[1]));
        }
        List<AuditFixtures.Located> records = AuditFixtures.located(started);
        assertEquals(AuditKind.SEGMENT_STARTED, records.getFirst().record().kind());
        assertEquals(lastHash, records.getFirst().record().prevHash(), "it follows the segment before");
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(crashed));
    }

    @Test
    void aLastSegmentWithoutARecordNamedPastTheChainIsRefused() throws IOException {
        Files.write(crashed.resolve(AuditFormat.fileName(nextSeq + 5)), new byte[0]);
        assertThrows(AuditDamagedException.class, () -> AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock));
    }

    @Test
    void aLastSegmentShorterThanItsHeaderIsStartedAgain() throws IOException {
        Files.write(crashed.resolve(AuditFormat.fileName(nextSeq)), new byte[]{'M', 'L', 'L'});
        Verification.Intact seen = assertInstanceOf(Verification.Intact.class, AuditReader.verify(crashed));
        assertTrue(seen.notes().stream().anyMatch(n -> n.contains("being started")), seen.notes().toString());
        try (AuditLog audit = AuditFixtures.open(crashed, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(nextSeq - 1, audit.head().seq());
        }
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(crashed));
    }

    // --- a write made by hand, as the writer makes it -------------------------------------------

    private byte[] craftWrite(long firstSeq, Sha256 prev, long batch, int records) {
        ByteBuffer out = ByteBuffer.allocate(records * (AuditFormat.FRAME_BYTES + AuditRecord.MAX_BODY_BYTES));
        Sha256 previous = prev;
        for (int i = 0; i < records; i++) {
            byte[] body = AuditRecord.encode(firstSeq + i, previous, batch,
                    AuditEvent.frame(AuditFixtures.accepted(START, "W" + i, UUID.randomUUID(), 1000 + i, new byte[0])));
            AuditFormat.frame(out, nonce, body);
            previous = Sha256.hash(Sha256.newDigest(), body, 0, body.length);
        }
        return Arrays.copyOf(out.array(), out.position());
    }

    private static List<Integer> recordEnds(byte[] write) {
        List<Integer> ends = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.wrap(write);
        for (int at = 0; at < write.length; at += AuditFormat.FRAME_BYTES + buffer.getInt(at)) {
            ends.add(at + AuditFormat.FRAME_BYTES + buffer.getInt(at));
        }
        return ends;
    }

    private static AuditRecord decode(byte[] framed) {
        ByteBuffer buffer = ByteBuffer.wrap(framed);
        return AuditRecord.decode(buffer.slice(AuditFormat.FRAME_BYTES, buffer.getInt(0)), Sha256.newDigest());
    }

    private static void append(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes, StandardOpenOption.APPEND);
    }
}
