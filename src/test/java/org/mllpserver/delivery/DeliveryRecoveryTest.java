package org.mllpserver.delivery;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordIds;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RecordVisitor;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.testing.MllpPeer;
import org.mllpserver.testing.TestServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Delivery after things go wrong: a lost cursor, a connector bug, replays to the right place, concurrent replays. */
class DeliveryRecoveryTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void aConnectorWhoseCursorFileWasDeletedDeliversAgainFromTheStartInsteadOfSkipping() throws Exception {
        Path data = dir.resolve("data");
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> "AA")) {
            try (TestServer server = TestServer.start(DeliveryTest.env(peer.port(), "DATA_DIR", data.toString()))) {
                DeliveryTest.sendAll(server, List.of("L-1", "L-2", "L-3"));
                DeliveryTest.awaitDelivered(server, 3);
                server.stop();
            }
            Files.delete(data.resolve("cursors/peer.cursor"));
            try (TestServer server = TestServer.start(DeliveryTest.env(peer.port(), "DATA_DIR", data.toString()))) {
                assertEquals(List.of("L-1", "L-2", "L-3", "L-1", "L-2", "L-3"), peer.awaitReceived(6, WAIT), "at least once, nothing skipped");
            }
        }
    }

    @Test
    void aConnectorBugIsAFailedAttemptAndARecordThatAlwaysTripsItBecomesADeadLetter() throws Exception {
        List<String> delivered = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        Connector buggy = new Connector() {
            public String name() { return "buggy"; }
            public Outcome deliver(Delivery d) {
                calls.incrementAndGet();
                if (d.message().controlId().equals("B-2")) throw new IllegalStateException("injected: a bug in a connector");
                if (d.message().controlId().equals("B-4") && calls.get() < 8) throw new IllegalStateException("injected: once");
                delivered.add(d.message().controlId());
                return Outcome.DELIVERED;
            }
            public void close() { }
        };
        try (Journal journal = Journal.open(new Journal.Settings(dir.resolve("journal"), 1 << 20, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, RecordVisitor.NONE)) {
            DeadLetterQueue dlq = new DeadLetterQueue(journal, new DeadLetterIndex(), new RecordIds(Clock.systemUTC(), new Random(1)), Clock.systemUTC(), Set.of("buggy"));
            RetryPolicy quick = new RetryPolicy(Duration.ofMillis(5), Duration.ofMillis(20), 3);
            DeliveryService service = DeliveryService.start(List.of(new DeliveryService.Route("buggy", new ConnectorSettings.File(dir), quick)),
                    (name, settings) -> buggy, journal, dir.resolve("cursors"), dlq);
            try {
                for (int i = 1; i <= 5; i++) journal.append(RecordType.MESSAGE, message("B-" + i, "buggy").encode());
                DispatcherStats stats = service.stats().get("buggy");
                assertTrue(stats.awaitOutcomes(4, 1, WAIT), stats.delivered() + " delivered, " + stats.deadLetters() + " dead");
                assertEquals(List.of("B-1", "B-3", "B-4", "B-5"), delivered, "in order; B-4 got through on a later attempt");
                assertEquals("B-2", dlq.list().getFirst().controlId());
                assertTrue(dlq.list().getFirst().lastError().contains("the connector failed"));
                assertEquals(DispatcherStats.State.RUNNING, stats.status().state());
            } finally {
                service.stop(Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void aReplayGoesToTheConnectorThatGaveUpUnlessAskedOtherwiseAndConcurrentReplaysReplayOnce() throws Exception {
        try (MllpPeer strict = MllpPeer.start((id, arrival) -> id.startsWith("BAD") && arrival == 1 ? "AR" : "AA");
             MllpPeer easy = MllpPeer.start((id, arrival) -> "AA");
             TestServer server = TestServer.start(DeliveryTest.env(strict.port(),
                     "CONNECTOR_EASY_TYPE", "mllp", "CONNECTOR_EASY_URL", "mllp://127.0.0.1:" + easy.port()))) {
            DeliveryTest.sendAll(server, List.of("BAD-1", "BAD-2"));
            easy.awaitReceived(2, WAIT);
            DeadLetterQueue dlq = server.server().deadLetters();
            assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(0, 2, WAIT));
            UUID first = dlq.list().get(0).id();
            UUID second = dlq.list().get(1).id();

            // Two operators replay the same dead letter at once: one replay.
            List<Future<Boolean>> attempts = new ArrayList<>();
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 4; i++) attempts.add(pool.submit(() -> {
                    try {
                        return dlq.replay(first, Optional.empty(), false).equals(List.of("peer"));
                    } catch (IllegalArgumentException alreadyReplayed) {
                        return false;
                    }
                }));
                int replayed = 0;
                for (Future<Boolean> a : attempts) replayed += a.get() ? 1 : 0;
                assertEquals(1, replayed);
            }
            assertEquals(List.of("BAD-1", "BAD-2", "BAD-1"), strict.awaitReceived(3, WAIT));
            assertEquals(List.of("BAD-1", "BAD-2"), easy.received(), "the connector that had delivered it did not get it again");

            assertEquals(List.of("easy", "peer"), dlq.replay(second, Optional.empty(), true), "--to-addressed: every connector (configuration order)");
            easy.awaitReceived(3, WAIT);
            assertEquals("BAD-2", easy.received().get(2));
            server.stop();
            List<String> kinds = new ArrayList<>();
            JournalReader.read(server.journalDir(), 0, e -> kinds.add(e.type().name()));
            assertEquals(2, kinds.stream().filter("REPLAY"::equals).count(), kinds.toString());
        }
    }

    private static StoredMessage message(String controlId, String connector) {
        byte[] raw = ("MSH|^~\\&|A|B|C|D|20260101120000||ADT^A01|" + controlId + "|P|2.5\r").getBytes(StandardCharsets.US_ASCII);
        return new StoredMessage(UUID.randomUUID(), Instant.now(), "/127.0.0.1:1", "", "A", "B", "ADT^A01", controlId, "ISO-8859-1",
                List.of(connector), raw);
    }
}
