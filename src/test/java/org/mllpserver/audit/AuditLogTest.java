package org.mllpserver.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.events.Events;
import org.mllpserver.testing.MutableClock;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mllpserver.audit.AuditFixtures.START;

/** What AuditLog writes for each fact, and what it never writes. */
class AuditLogTest {

    @TempDir
    Path dir;

    @Test
    void recordsEveryKindOfFactWithItsFields() throws Exception {
        MutableClock clock = new MutableClock(START);
        UUID id = UUID.randomUUID();
        UUID deadLetter = UUID.randomUUID();
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            audit.frameAnswered(AuditFixtures.accepted(START, "4471", id, 4096, AuditFixtures.payload("4471")));
            audit.frameAnswered(AuditFixtures.rejected(START, "4472", UUID.randomUUID(), 8192, AuditFixtures.payload("4472"),
                    List.of("pid-required", "obx-units")));
            audit.delivery(new Events.Delivery(START, "ehr", Events.DeliveryOutcome.RETRY, id, 4096, "ORU^R01", "4471", 1, 5, "timeout"));
            audit.delivery(new Events.Delivery(START, "ehr", Events.DeliveryOutcome.DELIVERED, id, 4096, "ORU^R01", "4471", 2, 5, ""));
            audit.delivery(new Events.Delivery(START, "lis", Events.DeliveryOutcome.DEAD_LETTER, id, 4096, "ORU^R01", "4471", 9, 5, "HTTP 400"));
            audit.operatorAction(new Events.OperatorAction(START, "uid:1000", "dlq replay", Optional.of(deadLetter), Optional.of(id), "to lis"));
            audit.configurationLoaded(new Events.ConfigurationLoaded(START, "ab".repeat(32), "start"));
            audit.tlsReloaded(new Events.TlsReloaded(START, false, "key does not match certificate"));
        }
        List<AuditRecord> records = AuditFixtures.all(dir);
        List<AuditKind> kinds = records.stream().map(AuditRecord::kind).toList();
        assertEquals(List.of(AuditKind.SEGMENT_STARTED, AuditKind.ACCEPTED, AuditKind.REJECTED, AuditKind.DELIVERED,
                AuditKind.DEAD_LETTER, AuditKind.OPERATOR_ACTION, AuditKind.CONFIGURATION_LOADED, AuditKind.TLS_RELOAD_FAILED,
                AuditKind.AUDIT_CLOSED), kinds, "one record per fact, none for a retry, a seal at close");

        AuditEvent accepted = records.get(1).event();
        assertEquals("10.1.2.3:40001", accepted.sender().address());
        assertEquals("CN=lab.example", accepted.sender().tlsIdentity());
        assertEquals(new AuditEvent.Header("LABSYS", "LAB", "ORU^R01^ORU_R01", "4471"), accepted.header());
        assertEquals(new AuditEvent.Stored(Optional.of(id), 4096), accepted.stored());
        assertEquals("AA", accepted.answer().ackCode());
        assertEquals(List.of("pid-required", "obx-units"), records.get(2).event().answer().reasons());
        assertEquals(new AuditEvent.Attempts("ehr", 2), records.get(3).event().delivery());
        assertEquals(List.of("HTTP 400"), records.get(4).event().answer().reasons());
        assertEquals(new AuditEvent.Operator("uid:1000", "dlq replay", Optional.of(deadLetter)), records.get(5).event().operator());
        assertEquals("ab".repeat(32), records.get(6).event().payload().sha256().orElseThrow().hex());
        for (int i = 0; i < records.size(); i++) assertEquals(i, records.get(i).seq());

        Verification verified = AuditReader.verify(dir);
        Verification.Intact intact = assertInstanceOf(Verification.Intact.class, verified, verified.summary());
        assertEquals(9, intact.records());
        assertEquals(records.getLast().hash(), intact.head().orElseThrow().hash());
        assertEquals("9 records, head " + records.getLast().hash().hex(), intact.summary());
    }

    @Test
    void keepsThePayloadsHashAndSizeButNoByteOfIt() throws Exception {
        String marker = "SECRET-RESULT-MARKER-4471";
        byte[] payload = ("MSH|^~\\&|LABSYS|LAB|||20261124||ORU^R01|4471|P|2.5\rOBX|1|ST|GLU||" + marker + "\r")
                .getBytes(StandardCharsets.ISO_8859_1);
        AuditLog.Head head;
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, new MutableClock(START))) {
            audit.frameAnswered(AuditFixtures.accepted(START, "4471", UUID.randomUUID(), 0, payload));
            audit.flush();
            head = audit.head();
        }
        AuditEvent recorded = AuditFixtures.all(dir).get(1).event();
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
        assertEquals(expected, recorded.payload().sha256().orElseThrow().hex());
        assertEquals(payload.length, recorded.payload().bytes());
        assertEquals(1, head.seq());
        byte[] needle = marker.getBytes(StandardCharsets.ISO_8859_1);
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                assertFalse(contains(Files.readAllBytes(file), needle), file + " holds payload bytes");
                assertFalse(contains(Files.readAllBytes(file), "DOE^JANE".getBytes(StandardCharsets.ISO_8859_1)));
            }
        }
    }

    @Test
    void boundsWhatASenderPutsInAField() throws Exception {
        String huge = "X".repeat(100_000);
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, new MutableClock(START))) {
            audit.frameAnswered(AuditFixtures.rejected(START, huge, UUID.randomUUID(), 0, new byte[0],
                    java.util.Collections.nCopies(100, huge)));
        }
        AuditEvent recorded = AuditFixtures.all(dir).get(1).event();
        assertEquals(AuditEvent.MAX_FIELD_CHARS, recorded.header().controlId().length());
        assertTrue(recorded.header().controlId().endsWith("…"));
        assertEquals(AuditEvent.MAX_REASONS, recorded.answer().reasons().size());
        assertEquals("and 85 more", recorded.answer().reasons().getLast());
    }

    @Test
    void reopensWhereItStoppedAndLogsTheSameHead() throws Exception {
        MutableClock clock = new MutableClock(START);
        AuditLog.Head closedAt;
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            audit.frameAnswered(AuditFixtures.accepted(START, "1", UUID.randomUUID(), 0, new byte[1]));
            audit.flush();
            audit.close();
            closedAt = audit.head();
        }
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, clock)) {
            assertEquals(closedAt, audit.head(), "the head at open is the seal written at close");
            audit.frameAnswered(AuditFixtures.accepted(START, "2", UUID.randomUUID(), 100, new byte[1]));
        }
        assertInstanceOf(Verification.Intact.class, AuditReader.verify(dir));
        assertEquals(List.of("1", "2"), AuditFixtures.all(dir).stream().filter(r -> r.kind() == AuditKind.ACCEPTED)
                .map(r -> r.event().header().controlId()).toList());
    }

    @Test
    void eventsAfterCloseAreCountedNotLostSilently() throws Exception {
        AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, new MutableClock(START));
        audit.close();
        audit.frameAnswered(AuditFixtures.accepted(START, "late", UUID.randomUUID(), 0, new byte[1]));
        assertEquals(1, audit.stats().notRecorded());
    }

    @Test
    void aSecondWriterIsRefused() throws Exception {
        try (AuditLog audit = AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, new MutableClock(START))) {
            IOException refused = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> AuditFixtures.open(dir, AuditLog.Settings.DEFAULT_SEGMENT_BYTES, new MutableClock(START)));
            assertTrue(refused.getMessage().contains("in use"), refused.getMessage());
            assertTrue(audit.writerProblem(java.time.Duration.ofSeconds(30)).isEmpty());
        }
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return true;
        }
        return false;
    }
}
