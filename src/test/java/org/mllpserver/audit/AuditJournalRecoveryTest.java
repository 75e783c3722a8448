package org.mllpserver.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.events.Events;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RecordVisitor;
import org.mllpserver.journal.RefusedFrame;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.testing.MutableClock;

import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mllpserver.audit.AuditFixtures.START;

/**
 * After a crash that kept some frames' audit records from being forced, opening the audit and
 * rebuilding from a real journal records every MESSAGE and REFUSED_FRAME exactly once.
 */
class AuditJournalRecoveryTest {

    private static final int FRAMES = 120;

    @TempDir
    Path root;
    MutableClock clock = new MutableClock(START);

    /** A frame stored in the journal, and the event the intake would have reported for it. */
    record Stored(UUID id, long position, boolean refused, byte[] raw, Events.FrameAnswered event) {}

    @Test
    void rebuildsEveryFrameTheAuditLacksExactlyOnce() throws IOException {
        List<Stored> stored = journal(FRAMES);
        Set<Integer> lost = Set.of(3, 50, 51, 97, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119);
        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            for (int i = 0; i < FRAMES; i++) if (!lost.contains(i)) audit.frameAnswered(stored.get(i).event());
            // A duplicate of a lost frame names the original's record id: it must not count as the original's record.
            Events.FrameAnswered original = stored.get(110).event();
            audit.frameAnswered(new Events.FrameAnswered(original.at(), original.peer(), "", Events.FrameOutcome.DUPLICATE, "AA",
                    "LABSYS", "LAB", "ORU^R01", original.controlId(), original.recordId(), original.position(), original.payload(), List.of()));
        }

        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(lost.size(), audit.recoverFromJournal(journalDir(), 0));
        }
        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(0, audit.recoverFromJournal(journalDir(), 0), "a second start finds nothing missing");
        }

        Map<UUID, List<AuditRecord>> byId = frameRecords();
        for (int i = 0; i < FRAMES; i++) {
            Stored s = stored.get(i);
            List<AuditRecord> records = byId.getOrDefault(s.id(), List.of());
            assertEquals(1, records.size(), "frame " + i + " is recorded exactly once");
            AuditEvent e = records.getFirst().event();
            assertEquals(lost.contains(i), e.recovered(), "frame " + i);
            assertEquals(s.position(), e.stored().position());
            assertEquals(sha256(s.raw()), e.payload().sha256().orElseThrow().hex(), "frame " + i + ": the payload's hash");
            assertEquals(s.raw().length, e.payload().bytes());
            if (lost.contains(i)) {
                assertEquals(s.refused() ? AuditKind.REFUSED : AuditKind.ACCEPTED, e.kind());
                assertEquals(s.event().at(), e.time(), "a recovered frame keeps the time it was received");
                assertEquals(s.event().controlId(), e.header().controlId());
                assertEquals(s.event().peer(), e.sender().address());
            }
        }
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(auditDir()));
    }

    @Test
    void anEmptyAuditRecordsTheWholeJournal() throws IOException {
        journal(30);
        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(30, audit.recoverFromJournal(journalDir(), 0));
        }
        assertEquals(30, frameRecords().size());
    }

    /** The safe point: the highest audited position less the slack; a lost frame further back is not looked for. */
    @Test
    void readsTheJournalFromTheHighestAuditedPositionLessTheSlack() throws IOException {
        List<Stored> stored = journal(40);
        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            for (int i = 0; i < 40; i++) if (i != 2 && i != 36) audit.frameAnswered(stored.get(i).event());
            audit.flush();
            long slack = stored.get(39).position() - stored.get(30).position();
            assertEquals(1, JournalRebuild.run(audit, auditDir(), journalDir(), slack), "36 is within the slack, 2 is not");
        }
        Map<UUID, List<AuditRecord>> byId = frameRecords();
        assertTrue(byId.containsKey(stored.get(36).id()));
        assertTrue(!byId.containsKey(stored.get(2).id()));
        assertEquals(JournalRebuild.MIN_SLACK_BYTES, JournalRebuild.slackBytes(0));
        assertEquals(2 * ((64L << 20) + (1L << 30)), JournalRebuild.slackBytes(1L << 30), "twice the journal queue and MAX_INFLIGHT_BYTES");
    }

    /**
     * A clean close after the journal's seals the audit with the journal's end; the next start,
     * finding the journal ending there, reads none of it. A seal without it, or a journal that
     * ends elsewhere, is read as after a crash. (Frame 5 is left out only to show which happened.)
     */
    @Test
    void aSealAtTheJournalsEndLeavesNothingToReadAtTheNextStart() throws IOException {
        List<Stored> stored = journal(20);
        long end = journalEnd;
        AuditLog first = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock);
        for (int i = 0; i < 20; i++) if (i != 5) first.frameAnswered(stored.get(i).event());
        first.close(end);
        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(0, audit.recoverFromJournal(journalDir(), 0, end), "sealed where the journal ends: not read");
        } // closed without the journal's end
        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(1, audit.recoverFromJournal(journalDir(), 0, end), "a seal without the journal's end: read");
            audit.close(end);
        }
        try (AuditLog audit = AuditFixtures.open(auditDir(), AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(0, audit.recoverFromJournal(journalDir(), 0, end + 1), "a journal that ends elsewhere is read (nothing missing now)");
        }
        assertEquals(20, frameRecords().size());
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(auditDir()));
    }

    // --- a real journal -------------------------------------------------------------------------

    /** Where the journal {@link #journal} wrote ended when it was closed. */
    private long journalEnd = -1;

    private List<Stored> journal(int frames) throws IOException {
        List<Stored> stored = new ArrayList<>();
        Journal.Settings settings = new Journal.Settings(journalDir(), 1 << 20, Duration.ofDays(7));
        Journal journal = Journal.open(settings, clock, ChannelFactory.DEFAULT, RecordVisitor.NONE);
        try (journal) {
            for (int i = 0; i < frames; i++) {
                UUID id = UUID.randomUUID();
                String controlId = "J-" + i;
                byte[] raw = AuditFixtures.payload(controlId);
                boolean refused = i % 7 == 0;
                java.time.Instant at = START.plusSeconds(i);
                long position = refused
                        ? journal.append(RecordType.REFUSED_FRAME, new RefusedFrame(id, at, "10.0.0.9:5000", "", controlId, "203 Unsupported version id", raw).encode())
                        : journal.append(RecordType.MESSAGE, new StoredMessage(id, at, "10.0.0.9:5000", "", "LABSYS", "LAB", "ORU^R01",
                                controlId, "ISO-8859-1", List.of("ehr"), raw).encode());
                Events.FrameAnswered event = new Events.FrameAnswered(at, "10.0.0.9:5000", "",
                        refused ? Events.FrameOutcome.REFUSED : Events.FrameOutcome.ACCEPTED, refused ? "AE" : "AA", "LABSYS", "LAB",
                        "ORU^R01", controlId, Optional.of(id), position, raw, refused ? List.of("203 Unsupported version id") : List.of());
                stored.add(new Stored(id, position, refused, raw, event));
            }
        }
        journalEnd = journal.end();
        return stored;
    }

    private Map<UUID, List<AuditRecord>> frameRecords() throws IOException {
        return AuditFixtures.all(auditDir()).stream()
                .filter(r -> r.kind().leavesJournalRecord())
                .collect(Collectors.groupingBy(r -> r.event().stored().recordId().orElseThrow(), Collectors.mapping(Function.identity(), Collectors.toList())));
    }

    private Path auditDir() {
        return root.resolve("audit");
    }

    private Path journalDir() {
        return root.resolve("journal");
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
