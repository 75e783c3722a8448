package org.mllpserver.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.MllpPeer;
import org.mllpserver.testing.TestServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checkpoint of the indexes, one test per row of its part of the recovery table: used when it
 * fits, the journal after it read; a missing, damaged, foreign or half-written one means reading
 * the whole journal, and the server knows exactly the same either way.
 */
class CheckpointTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private final List<Path> dirs = new ArrayList<>();

    @AfterEach
    void clean() {
        dirs.forEach(TestServer::deleteRecursively);
    }

    @Test
    void aCleanStopWritesOneAndTheNextStartReadsOnlyTheJournalAfterIt() throws Exception {
        Path data = dir();
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA")) {
            try (TestServer server = start(data, peer)) {
                sendAll(server, "M-", 50);
                sendAll(server, "BAD-", 3);
                assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(50, 3, WAIT));
            }
            assertTrue(Files.exists(data.resolve(Checkpoints.FILE)), "written at the clean stop");
            try (TestServer server = start(data, peer)) {
                assertTrue(server.server().journal().openedFromCheckpoint());
                assertKnowsWhatItKnew(server);
            }
        }
    }

    @Test
    void recordsAfterTheCheckpointAreReadAgainAfterACrash() throws Exception {
        Path data = dir();
        Path crashed = dir();
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA")) {
            try (TestServer server = start(data, peer)) {
                sendAll(server, "M-", 20);
                sendAll(server, "BAD-", 1);
                assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(20, 1, WAIT));
                assertTrue(server.server().checkpointNow());
                sendAll(server, "M-", 50, 21); // after the checkpoint: only the journal knows them
                sendAll(server, "BAD-", 3, 2);
                assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(50, 3, WAIT));
                UUID purged = server.server().deadLetters().list().getFirst().id();
                server.server().deadLetters().purge(purged); // resolving a dead letter the checkpoint holds open
                awaitCursorSaved(server); // else the copy would deliver again what its cursor file had not passed yet
                copy(data, crashed); // what a crash right now would leave on disk (no seal, no new checkpoint)
            }
            try (TestServer server = start(crashed, peer)) {
                assertTrue(server.server().journal().openedFromCheckpoint());
                assertEquals(List.of("BAD-2", "BAD-3"), controlIds(server), "added after it, and purged after it, as the journal says");
                assertDuplicates(server, "M-", 50);
            }
        }
    }

    @Test
    void aDamagedCheckpointMeansReadingTheWholeJournal() throws Exception {
        Path data = dir();
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA")) {
            try (TestServer server = start(data, peer)) {
                sendAll(server, "M-", 50);
                sendAll(server, "BAD-", 3);
                assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(50, 3, WAIT));
            }
            Path checkpoint = data.resolve(Checkpoints.FILE);
            byte[] bytes = Files.readAllBytes(checkpoint);
            bytes[bytes.length / 2] ^= 0x10; // one bit
            Files.write(checkpoint, bytes);
            try (TestServer server = start(data, peer)) {
                assertFalse(server.server().journal().openedFromCheckpoint(), "its checksum does not match: not used");
                assertKnowsWhatItKnew(server);
            }
        }
    }

    @Test
    void aCheckpointFromAnotherJournalIsNotUsed() throws Exception {
        Path data = dir();
        Path other = dir();
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA")) {
            try (TestServer server = start(other, peer)) {
                sendAll(server, "X-", 5);
            }
            try (TestServer server = start(data, peer)) {
                sendAll(server, "M-", 50);
                sendAll(server, "BAD-", 3);
                assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(50, 3, WAIT));
            }
            Files.copy(other.resolve(Checkpoints.FILE), data.resolve(Checkpoints.FILE), StandardCopyOption.REPLACE_EXISTING);
            try (TestServer server = start(data, peer)) {
                assertFalse(server.server().journal().openedFromCheckpoint(), "the segment it names has another nonce here");
                assertKnowsWhatItKnew(server);
                assertEquals(java.util.Optional.empty(), server.server().deadLetters().list().stream()
                        .filter(e -> e.controlId().startsWith("X")).findAny());
            }
        }
    }

    @Test
    void aCheckpointCutShortWhileBeingWrittenLeavesThePreviousOne() throws Exception {
        Path data = dir();
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA")) {
            try (TestServer server = start(data, peer)) {
                sendAll(server, "M-", 50);
                sendAll(server, "BAD-", 3);
                assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(50, 3, WAIT));
            }
            // A SIGKILL in the middle of writing the next one leaves its temporary file, half written.
            byte[] whole = Files.readAllBytes(data.resolve(Checkpoints.FILE));
            Files.write(data.resolve(Checkpoints.FILE + ".tmp"), java.util.Arrays.copyOf(whole, whole.length / 2));
            try (TestServer server = start(data, peer)) {
                assertTrue(server.server().journal().openedFromCheckpoint(), "the whole previous one is used");
                assertKnowsWhatItKnew(server);
                sendAll(server, "N-", 1);
                assertTrue(server.server().checkpointNow(), "and the next one replaces the leftover");
            }
            assertFalse(Files.exists(data.resolve(Checkpoints.FILE + ".tmp")));
        }
    }

    @Test
    void noCheckpointMeansReadingTheWholeJournal() throws Exception {
        Path data = dir();
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA")) {
            try (TestServer server = start(data, peer)) {
                sendAll(server, "M-", 50);
                sendAll(server, "BAD-", 3);
                assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(50, 3, WAIT));
            }
            Files.delete(data.resolve(Checkpoints.FILE));
            try (TestServer server = start(data, peer)) {
                assertFalse(server.server().journal().openedFromCheckpoint());
                assertKnowsWhatItKnew(server);
            }
        }
    }

    // --- helpers -------------------------------------------------------------------------

    /** After M-1..M-50 and BAD-1..BAD-3 (refused by the peer): the dead letters, and the messages as duplicates. */
    private static void assertKnowsWhatItKnew(TestServer server) throws Exception {
        assertEquals(List.of("BAD-1", "BAD-2", "BAD-3"), controlIds(server));
        assertDuplicates(server, "M-", 50);
        DeadLetterIndex.Entry first = server.server().deadLetters().list().getFirst();
        assertEquals("BAD-1", server.server().deadLetters().read(first).message().controlId(), "its message is read from the journal");
    }

    /** Each message sent again is recognised: AA, and still stored once. */
    private static void assertDuplicates(TestServer server, String prefix, int n) throws Exception {
        long before = server.server().duplicates().duplicates();
        sendAll(server, prefix, n);
        assertEquals(n, server.server().duplicates().duplicates() - before, "every one was a duplicate");
        int[] stored = {0};
        JournalReader.read(server.journalDir(), 0, entry -> {
            if (entry.type() == RecordType.MESSAGE && StoredMessage.decode(entry.body()).controlId().startsWith(prefix)) stored[0]++;
        });
        assertEquals(n, stored[0], "stored once each");
    }

    private static void awaitCursorSaved(TestServer server) {
        var stats = server.server().delivery().stats().get("peer");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (stats.savedCursor() != stats.cursor()) {
            if (System.nanoTime() > deadline) throw new AssertionError("the cursor was never saved");
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }

    private static List<String> controlIds(TestServer server) {
        return server.server().deadLetters().list().stream().map(DeadLetterIndex.Entry::controlId).toList();
    }

    private static void sendAll(TestServer server, String prefix, int n) throws Exception {
        sendAll(server, prefix, n, 1);
    }

    private static void sendAll(TestServer server, String prefix, int last, int first) throws Exception {
        try (MllpClient client = server.connect()) {
            for (int i = first; i <= last; i++) {
                assertEquals("AA", Hl7Text.of(client.exchange(ServerProcessTest.adt(prefix + i))).ackCode(), prefix + i);
            }
        }
    }

    private TestServer start(Path data, MllpPeer peer) throws Exception {
        return TestServer.start("DATA_DIR", data.toString(), "JOURNAL_SEGMENT_SIZE", "64KiB",
                "CONNECTOR_PEER_TYPE", "mllp", "CONNECTOR_PEER_URL", "mllp://127.0.0.1:" + peer.port(), "RETRY_MAX_ATTEMPTS", "1");
    }

    private Path dir() throws java.io.IOException {
        Path dir = Files.createTempDirectory("mllp-checkpoint-");
        dirs.add(dir);
        return dir;
    }

    private static void copy(Path from, Path to) throws java.io.IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                try {
                    if (Files.isDirectory(p)) Files.createDirectories(target);
                    else if (!p.getFileName().toString().endsWith(".sock")) Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                } catch (java.nio.file.NoSuchFileException renamedMeanwhile) {
                    // a temporary file the server renamed while we copied: its final name is copied too
                }
            }
        }
    }
}
