package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.audit.AuditKind;
import org.mllpserver.audit.AuditReader;
import org.mllpserver.audit.Verification;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The promise of the product: a child server under load from several connections is killed with
 * SIGKILL at seeded moments, 24 times; after each restart every message that got AA is in the
 * journal byte for byte and has exactly one {@code accepted} audit record (written live, or rebuilt
 * from the journal at start), no record is damaged (recovery would refuse to start, the reader would
 * throw), the audit's chain verifies, and the server accepts again.
 */
class CrashTest {

    private static final int CYCLES = 24;
    private static final int SENDERS = 4;
    private static final Pattern ACCEPTING = Pattern.compile("accepting on /127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern READY = Pattern.compile("ready in \\d+ ms \\(journal read (.*)\\)");

    @Test
    void everyAcknowledgedMessageSurvivesSigkill() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("CrashTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random random = new Random(seed);
        Path data = Files.createTempDirectory("mllp-crash-");
        Map<String, byte[]> acknowledged = new ConcurrentHashMap<>();
        // Checkpoints every 100 ms: kills land before, during and after their writes, and every
        // start reads the journal from the last whole one.
        Map<String, String> env = Map.of("DATA_DIR", data.toString(), "LISTEN_ADDR", "127.0.0.1:0", "JOURNAL_SEGMENT_SIZE", "256KiB",
                "CHECKPOINT_INTERVAL", "100ms");
        int[] fromCheckpoint = {0};
        try {
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                try (ServerProcessTest.Child child = ServerProcessTest.Child.start(env)) {
                    int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
                    if (child.awaitLine(READY).group(1).equals("from its checkpoint on")) fromCheckpoint[0]++;
                    assertAllPresent(data, acknowledged, "seed " + seed + ", after restart " + cycle);
                    int killAfter = 10 + random.nextInt(250);
                    loadUntilKilled(child, port, killAfter, cycle, random.nextLong(), acknowledged);
                }
            }
            try (ServerProcessTest.Child child = ServerProcessTest.Child.start(env)) {
                int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
                assertAllPresent(data, acknowledged, "seed " + seed + ", final restart");
                List<String> resent = new ArrayList<>(acknowledged.keySet());
                java.util.Collections.shuffle(resent, random);
                resent = resent.subList(0, Math.min(100, resent.size()));
                try (MllpClient client = client(port, Duration.ofSeconds(10))) {
                    assertEquals("AA", Hl7Text.of(client.exchange(message("FINAL", 10))).ackCode(), "accepts again");
                    for (String id : resent) assertEquals("AA", Hl7Text.of(client.exchange(acknowledged.get(id))).ackCode());
                }
                Map<String, Integer> copies = storedCopies(data);
                assertTrue(acknowledged.size() > CYCLES * 10, acknowledged.size() + " messages acknowledged over the run");
                for (String id : resent) {
                    assertEquals(1, copies.get(id), "seed " + seed + ": re-sent acknowledged message " + id
                            + " is a duplicate (known from the checkpoint or the journal after it), not stored again");
                }
                assertTrue(fromCheckpoint[0] >= CYCLES / 2, fromCheckpoint[0] + " of " + CYCLES + " restarts began from a checkpoint");
                Verification chain = AuditReader.verify(data.resolve("audit"));
                assertTrue(chain instanceof Verification.Intact, "seed " + seed + ": " + chain.summary());
                System.out.println("CrashTest: audit " + chain.summary() + ", " + recovered(data) + " record(s) rebuilt from the journal over the run");
            }
        } finally {
            TestServer.deleteRecursively(data);
        }
    }

    /** SENDERS connections send unique messages until {@code killAfter} AAs arrived, then the child is SIGKILLed. */
    private static void loadUntilKilled(ServerProcessTest.Child child, int port, int killAfter, int cycle, long seed,
                                        Map<String, byte[]> acknowledged) throws Exception {
        AtomicInteger acks = new AtomicInteger();
        AtomicBoolean killed = new AtomicBoolean();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < SENDERS; t++) {
                int thread = t;
                senders.add(pool.submit(() -> {
                    Random sizes = new Random(seed ^ thread);
                    try (MllpClient client = client(port, Duration.ofSeconds(30))) {
                        for (int n = 0; !killed.get(); n++) {
                            String id = "C" + cycle + "-T" + thread + "-" + n;
                            byte[] message = message(id, sizes.nextInt(sizes.nextInt(10) == 0 ? 20_000 : 500));
                            byte[] reply = client.exchange(message);
                            if (Hl7Text.of(reply).ackCode().equals("AA")) acknowledged.put(id, message);
                            if (acks.incrementAndGet() >= killAfter && killed.compareAndSet(false, true)) {
                                child.process.destroyForcibly(); // SIGKILL, mid-load: the other senders are mid-exchange
                            }
                        }
                    } catch (IOException expectedOnceKilled) {
                        if (!killed.get()) throw expectedOnceKilled;
                    }
                    return null;
                }));
            }
            for (Future<?> sender : senders) sender.get(60, TimeUnit.SECONDS);
        }
        assertTrue(child.process.waitFor(30, TimeUnit.SECONDS), "killed");
    }

    private static void assertAllPresent(Path data, Map<String, byte[]> acknowledged, String when) throws IOException {
        Map<String, Integer> audited = new HashMap<>();
        AuditReader.forEach(data.resolve("audit"), record -> {
            if (record.event().kind() == AuditKind.ACCEPTED) audited.merge(record.event().header().controlId(), 1, Integer::sum);
        });
        for (String id : acknowledged.keySet()) {
            assertEquals(1, audited.getOrDefault(id, 0), when + ": acknowledged " + id + " has one accepted audit record");
        }
        Map<String, byte[]> stored = new HashMap<>();
        JournalReader.read(data.resolve("journal"), 0, entry -> {  // throws on a damaged record
            if (entry.type() == RecordType.MESSAGE) {
                StoredMessage m = StoredMessage.decode(entry.body());
                stored.putIfAbsent(m.controlId(), m.raw());
            }
        });
        for (Map.Entry<String, byte[]> sent : acknowledged.entrySet()) {
            byte[] raw = stored.get(sent.getKey());
            assertNotNull(raw, when + ": acknowledged " + sent.getKey() + " is missing from the journal");
            assertArrayEquals(sent.getValue(), raw, when + ": " + sent.getKey() + " differs");
        }
    }

    private static long recovered(Path data) throws IOException {
        long[] n = {0};
        AuditReader.forEach(data.resolve("audit"), record -> {
            if (record.event().recovered()) n[0]++;
        });
        return n[0];
    }

    private static Map<String, Integer> storedCopies(Path data) throws IOException {
        Map<String, Integer> copies = new HashMap<>();
        JournalReader.read(data.resolve("journal"), 0, entry -> {
            if (entry.type() == RecordType.MESSAGE) copies.merge(StoredMessage.decode(entry.body()).controlId(), 1, Integer::sum);
        });
        return copies;
    }

    private static byte[] message(String controlId, int noteLength) {
        return ("MSH|^~\\&|CRASH|TEST|MLLP|SERVER|20260101120000||ORU^R01^ORU_R01|" + controlId + "|P|2.5.1\r"
                + "PID|1||" + controlId + "^^^TEST^MR||Crash^Test\rOBR|1||" + controlId + "|CBC\r"
                + "OBX|1|NM|HGB^Hemoglobin^LN||13.5|g/dL\rNTE|1||" + "n".repeat(noteLength) + "\r").getBytes(StandardCharsets.US_ASCII);
    }

    private static MllpClient client(int port, Duration replyTimeout) throws IOException {
        return MllpClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), Duration.ofSeconds(5), replyTimeout, 1 << 20);
    }
}
