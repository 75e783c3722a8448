package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RecordVisitor;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL while the checkpoint is being written: a journal of 300 000 messages makes each
 * checkpoint take tens of milliseconds, written every 100 ms while messages arrive; every other
 * kill waits until a checkpoint's temporary file exists (one is being written), the others land
 * at random, until at least three kills have landed during a write (the temporary file is left). After every restart, whatever checkpoint it found: every acknowledged message is in
 * the journal, and each sent again is recognised as a duplicate and not stored twice.
 */
class CheckpointCrashTest {

    private static final int PREFILLED = 300_000;
    private static final int MAX_KILLS = 15;
    private static final Pattern ACCEPTING = Pattern.compile("accepting on /127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern READY = Pattern.compile("ready in \\d+ ms \\(journal read (.*)\\)");

    @Test
    void killsDuringCheckpointWritesLoseNothingAndForgetNoDuplicate() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("CheckpointCrashTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random random = new Random(seed);
        Path data = Files.createTempDirectory("mllp-checkpoint-crash-");
        try {
            prefill(data.resolve("journal"));
            Map<String, String> env = Map.of("DATA_DIR", data.toString(), "LISTEN_ADDR", "127.0.0.1:0", "CHECKPOINT_INTERVAL", "100ms",
                    "LOG_LEVEL", "INFO");
            List<String> acknowledged = java.util.Collections.synchronizedList(new ArrayList<>());
            int duringWrite = 0;
            int fromCheckpoint = 0;
            int kills = 0;
            while (duringWrite < 3 && kills < MAX_KILLS) {
                try (ServerProcessTest.Child child = ServerProcessTest.Child.start(env)) {
                    int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
                    assertDuplicates(port, acknowledged, random, "seed " + seed + ", after kill " + kills);
                    if (child.awaitLine(READY).group(1).equals("from its checkpoint on")) fromCheckpoint++;
                    // Messages of 16 KiB, so that the journal grows by a checkpoint's size quickly: one is written
                    // (every 100 ms) once the journal has grown by the last one's size.
                    int cycle = kills;
                    java.util.concurrent.atomic.AtomicBoolean killed = new java.util.concurrent.atomic.AtomicBoolean();
                    int n = 100 + random.nextInt(400);
                    Thread sender = Thread.ofVirtual().start(() -> {
                        try (MllpClient client = client(port)) {
                            for (int i = 0; !killed.get() && (cycle % 2 == 1 || i < n); i++) {
                                String id = "K" + cycle + "-" + i;
                                if (Hl7Text.of(client.exchange(large(id))).ackCode().equals("AA")) acknowledged.add(id);
                            }
                        } catch (IOException expectedOnceKilled) {
                            // the child was killed mid-exchange
                        }
                    });
                    if (cycle % 2 == 1) awaitCheckpointBeingWritten(data); // every other kill: while one is written, under load
                    else sender.join(Duration.ofSeconds(60));              // the others: at a random moment after a random load
                    killed.set(true);
                    child.process.destroyForcibly(); // SIGKILL
                    assertTrue(sender.join(Duration.ofSeconds(30)));
                    assertTrue(child.process.waitFor(30, TimeUnit.SECONDS));
                    kills++;
                    if (Files.exists(data.resolve(Checkpoints.FILE + ".tmp"))) duringWrite++;
                }
            }
            System.out.println("CheckpointCrashTest: " + kills + " kills, " + duringWrite + " while a checkpoint was being written, "
                    + fromCheckpoint + " restarts from a checkpoint");
            assertTrue(fromCheckpoint >= 1, "restarts began from a checkpoint");
            assertTrue(duringWrite >= 3, "seed " + seed + ": only " + duringWrite + " of " + kills + " kills landed during a checkpoint write");
            try (ServerProcessTest.Child child = ServerProcessTest.Child.start(env)) {
                int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
                assertDuplicates(port, acknowledged, random, "seed " + seed + ", final restart");
            }
            Map<String, Integer> copies = new HashMap<>();
            JournalReader.read(data.resolve("journal"), 0, entry -> {
                if (entry.type() == RecordType.MESSAGE) copies.merge(StoredMessage.decode(entry.body()).controlId(), 1, Integer::sum);
            });
            for (String id : acknowledged) assertEquals(1, copies.get(id), "seed " + seed + ": " + id + " stored once");
        } finally {
            TestServer.deleteRecursively(data);
        }
    }

    /** Waits (bounded) until a checkpoint's temporary file exists: one is being written now. */
    private static void awaitCheckpointBeingWritten(Path data) {
        Path tmp = data.resolve(Checkpoints.FILE + ".tmp");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(tmp) && System.nanoTime() < deadline) java.util.concurrent.locks.LockSupport.parkNanos(200_000);
    }

    /** Sends up to 50 acknowledged messages (and some of the prefilled ones) again: each must be a duplicate. */
    private static void assertDuplicates(int port, List<String> acknowledged, Random random, String when) throws IOException {
        List<String> again = new ArrayList<>();
        synchronized (acknowledged) {
            for (int i = 0; i < Math.min(50, acknowledged.size()); i++) again.add(acknowledged.get(random.nextInt(acknowledged.size())));
        }
        for (int i = 0; i < 5; i++) again.add("FILL-" + random.nextInt(PREFILLED));
        try (MllpClient client = client(port)) {
            for (String id : again) {
                byte[] message = id.startsWith("FILL-") ? ServerProcessTest.adt(id) : large(id);
                assertEquals("AA", Hl7Text.of(client.exchange(message)).ackCode(), when + ": " + id);
            }
        }
    }

    /** Writes PREFILLED messages straight through the journal, as the server would have, so the indexes are large. */
    private static void prefill(Path journalDir) throws IOException {
        try (Journal journal = Journal.open(new Journal.Settings(journalDir, 64L << 20, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, RecordVisitor.NONE)) {
            for (int from = 0; from < PREFILLED; from += 2_000) {
                List<byte[]> bodies = new ArrayList<>();
                for (int i = from; i < from + 2_000; i++) {
                    bodies.add(new StoredMessage(UUID.randomUUID(), Instant.now(), "/127.0.0.1:1", "", "TEST", "TEST", "ADT^A01^ADT_A01",
                            "FILL-" + i, "ISO-8859-1", List.of(), ServerProcessTest.adt("FILL-" + i)).encode());
                }
                journal.appendAll(RecordType.MESSAGE, bodies, (i, position) -> { });
            }
        }
    }

    /** An ADT with a 16 KiB note, so that a cycle's messages add up to more journal than a checkpoint takes. */
    private static byte[] large(String controlId) {
        byte[] adt = ServerProcessTest.adt(controlId);
        byte[] note = ("NTE|1||" + "n".repeat(16 * 1024) + "\r").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] all = java.util.Arrays.copyOf(adt, adt.length + note.length);
        System.arraycopy(note, 0, all, adt.length, note.length);
        return all;
    }

    private static MllpClient client(int port) throws IOException {
        return MllpClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), Duration.ofSeconds(5),
                Duration.ofSeconds(30), 1 << 16);
    }
}
