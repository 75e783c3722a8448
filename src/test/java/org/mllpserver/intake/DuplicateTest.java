package org.mllpserver.intake;

import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.MutableClock;
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
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A message accepted within DEDUP_WINDOW gets its original answer again and is stored once. */
class DuplicateTest {

    @Test
    void aRepeatGetsAaAndIsNotStoredAgainAlsoAfterARestart() throws Exception {
        Path data = Files.createTempDirectory("mllp-dedup-");
        try {
            try (TestServer server = TestServer.start("DATA_DIR", data.toString()); MllpClient client = server.connect()) {
                assertEquals("AA", send(client, adt("DUP-1", "FAC")));
                assertEquals("AA", send(client, adt("DUP-1", "FAC")));
                assertEquals("AA", send(client, adt("DUP-1", "OTHER-FAC")), "another facility's DUP-1 is another message");
                assertEquals(1, server.server().duplicates().duplicates());
                server.stop();
            }
            try (TestServer again = TestServer.start("DATA_DIR", data.toString()); MllpClient client = again.connect()) {
                assertEquals("AA", send(client, adt("DUP-1", "FAC")), "the index was rebuilt from the journal");
                assertEquals(1, again.server().duplicates().duplicates());
                again.stop();
                assertEquals(List.of("DUP-1", "DUP-1"), StorageFailureTest.storedControlIds(again.journalDir()));
            }
        } finally {
            TestServer.deleteRecursively(data);
        }
    }

    @Test
    void aDuplicateIsAnsweredInTheModeItAsksFor() throws Exception {
        try (TestServer server = TestServer.start(); MllpClient client = server.connect()) {
            String enhanced = new String(adt("DUP-E", "FAC"), StandardCharsets.US_ASCII).replace("|P|2.5\r", "|P|2.5|||AL|NE\r");
            assertEquals("CA", send(client, enhanced.getBytes(StandardCharsets.US_ASCII)));
            assertEquals("CA", send(client, enhanced.getBytes(StandardCharsets.US_ASCII)));
            assertEquals("AA", send(client, adt("DUP-E", "FAC")));
        }
    }

    @Test
    void messagesWithoutControlIdOrWithSuppressionOffAreStoredEachTime() throws Exception {
        try (TestServer server = TestServer.start("DEDUP_WINDOW", "0"); MllpClient client = server.connect()) {
            send(client, adt("SAME", "FAC"));
            send(client, adt("SAME", "FAC"));
            server.stop();
            assertEquals(List.of("SAME", "SAME"), StorageFailureTest.storedControlIds(server.journalDir()));
        }
        try (TestServer server = TestServer.start(); MllpClient client = server.connect()) {
            send(client, adt("", "FAC"));
            send(client, adt("", "FAC"));
            server.stop();
            assertEquals(List.of("", ""), StorageFailureTest.storedControlIds(server.journalDir()));
        }
    }

    @Test
    void theSameMessageOnManyConnectionsAtOnceIsStoredOnce() throws Exception {
        int senders = 8;
        try (TestServer server = TestServer.start(); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CyclicBarrier start = new CyclicBarrier(senders);
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < senders; i++) {
                answers.add(pool.submit(() -> {
                    try (MllpClient client = server.connect()) {
                        start.await();
                        return send(client, adt("RACE-1", "FAC"));
                    }
                }));
            }
            for (Future<String> answer : answers) assertEquals("AA", answer.get());
            server.stop();
            assertEquals(List.of("RACE-1"), StorageFailureTest.storedControlIds(server.journalDir()));
            assertEquals(senders - 1, server.server().duplicates().duplicates());
        }
    }

    @Test
    void theWindowForgetsOldMessages() {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T00:00:00Z"));
        DuplicateIndex index = new DuplicateIndex(Duration.ofHours(24), clock);
        Optional<DuplicateIndex.Key> key = DuplicateIndex.Key.of("APP", "FAC", "ID-1");
        assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(key)).accepted();
        clock.advance(Duration.ofHours(23));
        assertInstanceOf(DuplicateIndex.Duplicate.class, index.claim(key));
        clock.advance(Duration.ofHours(2));
        assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(key)).abandoned();
        assertEquals(0, index.size());
        index.remember(DuplicateIndex.Key.of("APP", "FAC", "OLD").orElseThrow(), clock.instant().minus(Duration.ofDays(2)));
        assertEquals(0, index.size(), "a message from the journal older than the window is not remembered");
        assertEquals(DuplicateIndex.Key.of("AB", "C", "1"), DuplicateIndex.Key.of("AB", "C", "1"));
        assertEquals(false, DuplicateIndex.Key.of("AB", "C", "1").equals(DuplicateIndex.Key.of("A", "BC", "1")));
    }

    @Test
    void holdsManyMessagesAndForgetsThemAllWhenTheWindowPasses() {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T00:00:00Z"));
        DuplicateIndex index = new DuplicateIndex(Duration.ofHours(1), clock);
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(DuplicateIndex.Key.of("A", "F", "M" + i))).accepted();
            if (i % 1000 == 999) clock.advance(Duration.ofMillis(10)); // accepted over time, oldest first
        }
        assertEquals(n, index.size());
        for (int i = 0; i < n; i += 997) assertInstanceOf(DuplicateIndex.Duplicate.class, index.claim(DuplicateIndex.Key.of("A", "F", "M" + i)));
        clock.advance(Duration.ofHours(1).minusMillis(500)); // the first half's acceptance is now out of the window
        int remaining = index.size();
        assertTrue(remaining > 0 && remaining < n, "half expired: " + remaining);
        assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(DuplicateIndex.Key.of("A", "F", "M0"))).abandoned();
        clock.advance(Duration.ofHours(2));
        assertEquals(0, index.size());
        for (int i = 0; i < 1000; i++) assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(DuplicateIndex.Key.of("A", "F", "again" + i))).accepted();
        assertEquals(1000, index.size(), "the emptied shards fill again");
    }

    @Test
    void atItsCapTheOldestKeysGoFirstAndItsMemoryStaysFlatUnderAFloodOfUniqueControlIds() {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T00:00:00Z"));
        int cap = 64 * 1000;
        DuplicateIndex index = new DuplicateIndex(Duration.ofHours(24), clock, cap);
        long retainedAtCap = 0;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 100_000; i++) {
                assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(DuplicateIndex.Key.of("A", "F", round + "-" + i))).accepted();
                clock.advance(Duration.ofMillis(1)); // a flood: 1 000 unique control ids a second
            }
            assertTrue(index.size() <= cap && index.size() > cap - 64, "at its cap: " + index.size());
            if (round == 0) retainedAtCap = index.retainedBytes();
            else assertEquals(retainedAtCap, index.retainedBytes(), "memory flat after round " + round);
        }
        assertEquals(500_000 - index.size(), index.droppedForCap());
        System.out.println("DuplicateTest: at a cap of " + cap + " keys the index holds " + retainedAtCap + " bytes, "
                + retainedAtCap / index.size() + " bytes a key");
        assertTrue(retainedAtCap / index.size() <= DuplicateIndex.BYTES_PER_ENTRY,
                "the default cap's sizing holds: " + retainedAtCap / index.size() + " bytes a key");
        for (int i = 99_000; i < 100_000; i++) {
            assertInstanceOf(DuplicateIndex.Duplicate.class, index.claim(DuplicateIndex.Key.of("A", "F", "4-" + i)), "the newest are kept");
        }
        assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(DuplicateIndex.Key.of("A", "F", "4-0"))).abandoned(); // the oldest went
        assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(DuplicateIndex.Key.of("A", "F", "0-99999"))).abandoned();
    }

    @Test
    void savedAndLoadedItRecognisesTheSameMessages() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T00:00:00Z"));
        DuplicateIndex index = new DuplicateIndex(Duration.ofHours(1), clock);
        for (int i = 0; i < 5_000; i++) {
            assertInstanceOf(DuplicateIndex.Fresh.class, index.claim(DuplicateIndex.Key.of("A", "F", "S" + i))); // in flight: not saved
            ((DuplicateIndex.Fresh) index.claim(DuplicateIndex.Key.of("A", "F", "T" + i))).accepted();
            clock.advance(Duration.ofMillis(1));
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        index.save(new java.io.DataOutputStream(bytes));
        DuplicateIndex loaded = new DuplicateIndex(Duration.ofHours(1), clock);
        loaded.load(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(5_000, loaded.size());
        assertInstanceOf(DuplicateIndex.Duplicate.class, loaded.claim(DuplicateIndex.Key.of("A", "F", "T4999")));
        assertInstanceOf(DuplicateIndex.Fresh.class, loaded.claim(DuplicateIndex.Key.of("A", "F", "S1"))).abandoned();
        loaded.load(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(5_000, loaded.size(), "taking the same keys in twice changes nothing");
    }

    /** The index against a plain model (a map of key to acceptance time) under seeded random operations. */
    @Test
    void agreesWithASimpleModelUnderRandomClaimsExpiriesAndRebuilds() {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("DuplicateTest model: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        java.util.Random random = new java.util.Random(seed);
        MutableClock clock = new MutableClock(Instant.parse("2026-11-22T00:00:00Z"));
        Duration window = Duration.ofSeconds(100);
        DuplicateIndex index = new DuplicateIndex(window, clock);
        java.util.Map<String, Long> model = new java.util.HashMap<>();
        for (int op = 0; op < 200_000; op++) {
            String id = "K" + random.nextInt(5_000);
            var key = DuplicateIndex.Key.of("APP", "FAC", id);
            model.values().removeIf(t -> t < clock.millis() - window.toMillis());
            switch (random.nextInt(10)) {
                case 0 -> clock.advance(Duration.ofMillis(random.nextInt(3_000)));
                case 1 -> { // a record found in the journal at start: its time is in the past
                    long at = clock.millis() - random.nextInt(150_000);
                    index.remember(key.orElseThrow(), Instant.ofEpochMilli(at));
                    if (at >= clock.millis() - window.toMillis()) model.merge(id, at, Math::max);
                }
                default -> {
                    DuplicateIndex.Claim claim = index.claim(key);
                    boolean expectDuplicate = model.containsKey(id);
                    assertEquals(expectDuplicate, claim instanceof DuplicateIndex.Duplicate, "seed " + seed + " op " + op + " " + id);
                    if (claim instanceof DuplicateIndex.Fresh fresh) {
                        if (random.nextInt(4) == 0) {
                            fresh.abandoned();
                        } else {
                            fresh.accepted();
                            model.put(id, clock.millis());
                        }
                    }
                }
            }
        }
        model.values().removeIf(t -> t < clock.millis() - window.toMillis()); // the last operation may have moved the clock
        assertEquals(model.size(), index.size(), "seed " + seed);
    }

    private static String send(MllpClient client, byte[] message) throws java.io.IOException {
        return Hl7Text.of(client.exchange(message)).ackCode();
    }

    private static byte[] adt(String controlId, String facility) {
        return ("MSH|^~\\&|TEST|" + facility + "|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|P|2.5\r"
                + "EVN|A01|20260101120000\rPID|1||42^^^TEST^MR||Test^Patient\rPV1|1|I\r").getBytes(StandardCharsets.US_ASCII);
    }
}
