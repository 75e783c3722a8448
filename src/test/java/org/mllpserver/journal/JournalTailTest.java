package org.mllpserver.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tail reads forward as the journal grows and rolls, never past the end it is given. */
class JournalTailTest {

    @TempDir
    Path dir;

    @Test
    void followsTheJournalAcrossRollsFromAnyStartingPosition() throws Exception {
        List<Long> positions = new ArrayList<>();
        try (Journal journal = Journal.open(new Journal.Settings(dir, 64 * 1024, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, RecordVisitor.NONE);
             JournalTail tail = new JournalTail(dir, 0)) {
            assertEquals(List.of(), tail.read(journal.end(), 100));
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                positions.add(journal.append(RecordType.MESSAGE, ("record " + i + " " + "x".repeat(900)).getBytes(StandardCharsets.UTF_8)));
                if (i % 7 == 0) {
                    for (JournalReader.Entry e : tail.read(journal.end(), 1000)) seen.add(new String(e.body(), StandardCharsets.UTF_8));
                }
            }
            for (JournalReader.Entry e : tail.read(journal.end(), 1000)) seen.add(new String(e.body(), StandardCharsets.UTF_8));
            assertEquals(300, seen.size());
            for (int i = 0; i < 300; i++) assertTrue(seen.get(i).startsWith("record " + i + " "), seen.get(i));
            assertTrue(Recovery.segmentFiles(dir).size() > 3, "the journal rolled");
            for (int start : new int[]{1, 50, 133, 299}) {
                try (JournalTail from = new JournalTail(dir, positions.get(start))) {
                    List<JournalReader.Entry> got = new ArrayList<>();
                    for (int round = 0; round < 100 && got.size() < 300 - start; round++) got.addAll(from.read(journal.end(), 17));
                    assertEquals(300 - start, got.size(), "from record " + start);
                    assertEquals((long) positions.get(start), got.getFirst().position());
                }
            }
            try (JournalTail bounded = new JournalTail(dir, 0)) {
                // Each append here was its own batch, so record 10's batch starts just before it.
                long end = positions.get(10) - SegmentScanner.MARKER_BYTES;
                assertEquals(10, bounded.read(end, 1000).size(), "nothing at or past the given end");
            }
        }
    }
}
