package org.mllpserver.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.testing.FaultyDisk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A failed write or force reports the record not durable, leaves nothing half-written behind,
 * and the journal accepts again once the disk recovers.
 */
class StorageFaultTest {

    @TempDir
    Path dir;

    private final FaultyDisk disk = new FaultyDisk();

    @Test
    void eachKindOfFailureFailsItsRecordAndTheJournalRecovers() throws IOException {
        List<String> durable = new ArrayList<>();
        try (Journal journal = open(1 << 20)) {
            int n = 0;
            for (FaultyDisk.Fault fault : List.of(FaultyDisk.Fault.WRITE, FaultyDisk.Fault.PARTIAL_WRITE, FaultyDisk.Fault.FORCE)) {
                durable.add(appendOk(journal, "before " + fault + " " + n++));
                disk.fail(fault);
                assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, bytes("lost to " + fault)), fault.name());
                assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, bytes("also lost to " + fault)), fault.name());
                disk.heal();
                durable.add(appendOk(journal, "after " + fault + " " + n++));
            }
            assertEquals(6, journal.stats().failedBatches());
        }
        assertEquals(durable, readAll(), "exactly the records reported durable, nothing half-written between them");
    }

    @Test
    void aHungForceShowsAsAStuckFlusherUntilTheDiskAnswers() throws Exception {
        try (Journal journal = open(1 << 20)) {
            assertEquals(java.util.Optional.empty(), journal.flusherProblem(Duration.ofMillis(50)));
            disk.fail(FaultyDisk.Fault.HANG);
            java.util.concurrent.CompletableFuture<Long> append = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return journal.append(RecordType.MESSAGE, bytes("waits for the disk"));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (journal.flusherProblem(Duration.ofMillis(50)).isEmpty()) {
                if (System.nanoTime() > deadline) throw new AssertionError("a hung force was never reported");
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
            }
            assertEquals(true, journal.flusherProblem(Duration.ofMillis(50)).orElseThrow().contains("is the disk hung"));
            assertEquals(false, append.isDone(), "nothing is acknowledged while the force has not returned");
            disk.heal();
            append.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(java.util.Optional.empty(), journal.flusherProblem(Duration.ofMillis(50)));
            assertEquals(false, journal.flusherEnded());
        }
    }

    @Test
    void whenEvenTheRepairFailsTheJournalKeepsFailingUntilTheDiskRecovers() throws IOException {
        List<String> durable = new ArrayList<>();
        try (Journal journal = open(1 << 20)) {
            durable.add(appendOk(journal, "one"));
            disk.fail(FaultyDisk.Fault.FORCE);
            assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, bytes("written, never forced")));
            disk.fail(FaultyDisk.Fault.TRUNCATE_AND_WRITE);
            assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, bytes("repair fails")));
            assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, bytes("repair fails again")));
            disk.heal();
            durable.add(appendOk(journal, "two"));
        }
        assertEquals(durable, readAll());
    }

    @Test
    void aSegmentThatCannotBeCreatedFailsTheBatchThatNeededIt() throws IOException {
        List<String> durable = new ArrayList<>();
        try (Journal journal = open(64 * 1024)) {
            String filler = "f".repeat(1000);
            while (journal.end() < 60 * 1024) durable.add(appendOk(journal, filler + durable.size()));
            disk.fail(FaultyDisk.Fault.OPEN);
            List<String> failed = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                try {
                    durable.add(appendOk(journal, filler + "x" + i));
                } catch (IOException e) {
                    failed.add(e.getMessage());
                }
            }
            assertEquals(false, failed.isEmpty(), "the roll to a new segment failed at least once");
            disk.heal();
            durable.add(appendOk(journal, "in the new segment"));
        }
        assertEquals(durable, readAll());
    }

    @Test
    void aRollThatFailsAfterCreatingTheFileIsRetriedAndNeverLeavesAGap() throws IOException {
        List<String> durable = new ArrayList<>();
        try (Journal journal = open(64 * 1024)) {
            while (journal.end() < 60 * 1024) durable.add(appendOk(journal, "f".repeat(1000) + durable.size()));
            disk.fail(FaultyDisk.Fault.WRITE); // the new segment's header write fails: the file exists, empty
            assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, bytes("x".repeat(10_000))));
            disk.heal();
            durable.add(appendOk(journal, "small: would still fit the old segment, but that one is closed"));
            durable.add(appendOk(journal, "y".repeat(10_000)));
            for (int i = 0; i < 80; i++) durable.add(appendOk(journal, "after " + i + " " + "z".repeat(1000)));
            List<String> live = new ArrayList<>();
            JournalReader.read(dir, 0, e -> live.add(new String(e.body(), StandardCharsets.UTF_8)));
            assertEquals(durable, live, "a reader sees the chain whole while the journal is open");
        }
        assertEquals(durable, readAll());
    }

    @Test
    void anErrorInTheFlusherFailsItsBatchAndTheJournalGoesOn() throws IOException {
        List<String> durable = new ArrayList<>();
        try (Journal journal = open(1 << 20)) {
            durable.add(appendOk(journal, "before"));
            disk.fail(FaultyDisk.Fault.ERROR);
            IOException e = assertThrows(IOException.class, () -> journal.append(RecordType.MESSAGE, bytes("hit by an Error")));
            assertEquals(true, e.getMessage().contains("injected"), e.getMessage());
            disk.heal();
            durable.add(appendOk(journal, "after"));
        }
        assertEquals(durable, readAll());
    }

    private String appendOk(Journal journal, String text) throws IOException {
        journal.append(RecordType.MESSAGE, bytes(text));
        return text;
    }

    private Journal open(long segmentBytes) throws IOException {
        return Journal.open(new Journal.Settings(dir, segmentBytes, Duration.ofDays(7)), Clock.systemUTC(), disk, RecordVisitor.NONE);
    }

    private List<String> readAll() throws IOException {
        List<String> texts = new ArrayList<>();
        try (Journal reopened = Journal.open(new Journal.Settings(dir, 1 << 20, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, (position, type, body) -> texts.add(new String(body, StandardCharsets.UTF_8)))) {
            return texts;
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
