package org.mllpserver.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.testing.MutableClock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mllpserver.audit.AuditFixtures.START;

/** Retention deletes whole old segments only, records each deletion, and the rest still verifies. */
class AuditRetentionTest {

    private static final Duration RETENTION = Duration.ofDays(30);

    @TempDir
    Path dir;

    @Test
    void deletesExpiredSegmentsAndTheRestStillVerifies() throws IOException {
        MutableClock clock = new MutableClock(START);
        AuditLog.Settings settings = new AuditLog.Settings(dir, AuditLog.Settings.MIN_SEGMENT_BYTES, RETENTION);
        try (AuditLog audit = AuditLog.open(settings, clock, ChannelFactory.DEFAULT)) {
            for (int day = 0; day < 60; day++) {
                for (int i = 0; i < 40; i++) {
                    Instant at = clock.instant();
                    audit.frameAnswered(AuditFixtures.accepted(at, day + "-" + i, UUID.randomUUID(), day * 1000L + i, new byte[16]));
                }
                audit.flush();
                clock.advance(Duration.ofDays(1));
            }
            List<Path> before = AuditFixtures.segments(dir);
            assertTrue(before.size() > 5, "segments: " + before.size());
            int deleted = audit.deleteExpired();

            List<Path> after = AuditFixtures.segments(dir);
            assertTrue(deleted > 0 && deleted == before.size() - after.size(), "deleted " + deleted);
            assertEquals(before.subList(deleted, before.size()), after, "the oldest only, never the last");
            Instant cutoff = clock.instant().minus(RETENTION);
            Instant lastDeletedClosed = Retention.firstRecord(after.get(0)).orElseThrow().event().time();
            Instant firstKeptClosed = Retention.firstRecord(after.get(1)).orElseThrow().event().time();
            assertTrue(lastDeletedClosed.isBefore(cutoff), "the last segment deleted was closed before the cutoff: " + lastDeletedClosed);
            assertTrue(!firstKeptClosed.isBefore(cutoff), "the oldest segment kept was closed within the retention: " + firstKeptClosed);
            assertEquals(0, audit.deleteExpired(), "nothing more to delete now");
        }
        Verification result = AuditReader.verify(dir);
        Verification.Intact intact = assertInstanceOf(Verification.Intact.class, result, result.summary());
        assertTrue(intact.firstSeq() > 0);
        assertTrue(intact.notes().stream().anyMatch(n -> n.contains("deleted by retention")), intact.notes().toString());
        long deletions = AuditFixtures.all(dir).stream().filter(r -> r.kind() == AuditKind.SEGMENT_DELETED).count();
        assertTrue(deletions > 0);

        Files.delete(AuditFixtures.segments(dir).getFirst()); // and one more by hand: not retention's doing
        assertInstanceOf(Verification.Broken.class, AuditReader.verify(dir));
    }

    @Test
    void keepsEverySegmentWithinTheRetention() throws IOException {
        MutableClock clock = new MutableClock(START);
        AuditLog.Settings settings = new AuditLog.Settings(dir, AuditLog.Settings.MIN_SEGMENT_BYTES, RETENTION);
        try (AuditLog audit = AuditLog.open(settings, clock, ChannelFactory.DEFAULT)) {
            for (int i = 0; i < 1000; i++) audit.frameAnswered(AuditFixtures.accepted(clock.instant(), "C" + i, UUID.randomUUID(), i, new byte[16]));
            audit.flush();
            clock.advance(RETENTION.minusMinutes(1));
            assertEquals(0, audit.deleteExpired());
        }
    }
}
