package org.mllpserver.delivery;

import org.junit.jupiter.api.Test;
import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.DeadLetterResolution;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The open dead letters' index: order, taking records in twice, resolving, compaction, save and load. */
class DeadLetterIndexTest {

    @Test
    void keepsPositionOrderTakesARecordInOnceAndResolves() {
        DeadLetterIndex index = new DeadLetterIndex();
        var visitor = index.visitor();
        for (long p : new long[]{300, 100, 200}) visitor.visit(p, RecordType.DEAD_LETTER, deadLetter("C-" + p).encode());
        visitor.visit(200, RecordType.DEAD_LETTER, deadLetter("C-200").encode()); // read again after a checkpoint: no change
        assertEquals(List.of("C-100", "C-200", "C-300"), index.list().stream().map(DeadLetterIndex.Entry::controlId).toList());
        UUID second = index.list().get(1).id();
        visitor.visit(400, RecordType.DEAD_LETTER_RESOLVED, new DeadLetterResolution(second, 200, Instant.now(), "purged").encode());
        visitor.visit(401, RecordType.DEAD_LETTER_RESOLVED, new DeadLetterResolution(second, 200, Instant.now(), "purged").encode());
        assertEquals(List.of("C-100", "C-300"), index.list().stream().map(DeadLetterIndex.Entry::controlId).toList());
        assertEquals(100, index.oldestPosition());
        assertEquals(2, index.size());
    }

    @Test
    void agreesWithAPlainListUnderSeededAddsAndRemovalsWithCompactionAndARoundTripThroughACheckpoint() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("DeadLetterIndexTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random random = new Random(seed);
        DeadLetterIndex index = new DeadLetterIndex();
        List<Long> model = new ArrayList<>();
        long position = 0;
        for (int op = 0; op < 20_000; op++) {
            if (model.isEmpty() || random.nextInt(3) > 0) {
                position += 1 + random.nextInt(50);
                index.add(index.entryOf(position, deadLetter("P" + position)));
                model.add(position);
            } else {
                long gone = model.remove(random.nextInt(model.size()));
                assertTrue(index.removeAt(gone), "seed " + seed);
            }
        }
        assertEquals(model, index.list().stream().map(DeadLetterIndex.Entry::position).toList(), "seed " + seed);
        assertEquals(model.isEmpty() ? Long.MAX_VALUE : model.getFirst(), index.oldestPosition(), "seed " + seed);
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        index.save(new DataOutputStream(saved));
        DeadLetterIndex loaded = new DeadLetterIndex();
        loaded.load(new DataInputStream(new ByteArrayInputStream(saved.toByteArray())));
        assertEquals(model, loaded.list().stream().map(DeadLetterIndex.Entry::position).toList(), "seed " + seed);
        DeadLetterIndex.Entry any = loaded.list().get(random.nextInt(model.size()));
        DeadLetterIndex.Entry same = index.byPosition(any.position()).orElseThrow();
        assertEquals(List.of(same.id(), same.at(), same.connector(), same.attempts(), same.lastError(), same.recordId(), same.controlId(),
                same.messageType()), List.of(any.id(), any.at(), any.connector(), any.attempts(), any.lastError(), any.recordId(),
                any.controlId(), any.messageType()), "seed " + seed);
    }

    private static DeadLetter deadLetter(String controlId) {
        StoredMessage m = new StoredMessage(UUID.randomUUID(), Instant.parse("2026-12-06T10:00:00Z"), "/10.0.0.7:1", "", "LAB", "HOSP",
                "ORU^R01", controlId, "ISO-8859-1", List.of("ehr"), ("MSH|^~\\&|LAB|HOSP|||20261206||ORU^R01|" + controlId + "|P|2.5\r").getBytes());
        return new DeadLetter(UUID.randomUUID(), Instant.parse("2026-12-06T10:00:01Z"), "ehr", 1, "HTTP 401 from http://ehr/hl7", 7, m);
    }
}
