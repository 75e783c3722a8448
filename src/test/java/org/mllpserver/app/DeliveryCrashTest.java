package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.MllpPeer;
import org.mllpserver.testing.TestServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL in the middle of delivery: a child server forwards to an MLLP peer in this JVM and to
 * the real PostgreSQL, and the peer kills the child on a seeded arrival, mid-delivery, 10 times.
 * After the last restart every acknowledged message has reached the peer, the first arrivals are
 * in journal order (a record may arrive again after a crash: at least once), and the table holds
 * each record exactly once (the record id is its primary key).
 */
class DeliveryCrashTest {

    private static final int CYCLES = 10;
    private static final int SENDERS = 2;
    private static final int PER_SENDER = 40;
    private static final Pattern ACCEPTING = Pattern.compile("accepting on /127\\.0\\.0\\.1:(\\d+)");

    @Test
    void everyAcknowledgedRecordReachesTheConnectorInOrderAcrossSigkills() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("DeliveryCrashTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random random = new Random(seed);
        Path data = Files.createTempDirectory("mllp-delivery-crash-");
        AtomicReference<ServerProcessTest.Child> running = new AtomicReference<>();
        AtomicInteger killAt = new AtomicInteger(Integer.MAX_VALUE);
        AtomicInteger arrivals = new AtomicInteger();
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        String table = "hl7_crash_" + Long.toHexString(seed & 0xffffffffL);
        try (MllpPeer peer = MllpPeer.start((id, n) -> {
            if (arrivals.incrementAndGet() == killAt.get()) running.get().process.destroyForcibly(); // SIGKILL mid-delivery
            return "AA";
        })) {
            Map<String, String> env = Map.ofEntries(Map.entry("DATA_DIR", data.toString()), Map.entry("LISTEN_ADDR", "127.0.0.1:0"),
                    Map.entry("CHECKPOINT_INTERVAL", "100ms"),
                    Map.entry("CONNECTOR_PEER_TYPE", "mllp"), Map.entry("CONNECTOR_PEER_URL", "mllp://127.0.0.1:" + peer.port()),
                    Map.entry("CONNECTOR_ARCHIVE_TYPE", "postgres"),
                    Map.entry("CONNECTOR_ARCHIVE_URL", "postgres://postgres@127.0.0.1:5432/test"),
                    Map.entry("CONNECTOR_ARCHIVE_TABLE", table), Map.entry("CONNECTOR_ARCHIVE_BATCH_SIZE", "7"),
                    Map.entry("RETRY_INITIAL", "10ms"), Map.entry("RETRY_MAX_DELAY", "50ms"), Map.entry("RETRY_MAX_ATTEMPTS", "100000"));
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                try (ServerProcessTest.Child child = ServerProcessTest.Child.start(env)) {
                    running.set(child);
                    int port = Integer.parseInt(child.awaitLine(ACCEPTING).group(1));
                    killAt.set(arrivals.get() + 1 + random.nextInt(SENDERS * PER_SENDER));
                    send(port, cycle, acknowledged);
                    assertTrue(child.process.waitFor(60, TimeUnit.SECONDS), "seed " + seed + ": the peer killed the child in cycle " + cycle);
                }
            }
            killAt.set(Integer.MAX_VALUE);
            try (ServerProcessTest.Child child = ServerProcessTest.Child.start(env)) {
                running.set(child);
                child.awaitLine(ACCEPTING);
                List<String> order = journalOrder(data);
                assertTrue(order.containsAll(acknowledged), "every acknowledged message is in the journal");
                for (String id : order) peer.awaitControlId(id, Duration.ofSeconds(60));
                List<String> firstArrivals = new ArrayList<>(new LinkedHashSet<>(peer.received()));
                assertEquals(order, firstArrivals, "seed " + seed + ": first arrivals in journal order");
                System.out.println("DeliveryCrashTest: " + order.size() + " records, " + peer.received().size()
                        + " deliveries (repeats after kills: " + (peer.received().size() - order.size()) + ")");
                assertEquals(order.stream().sorted().toList(), awaitRows(table, order.size()), "seed " + seed + ": each record once in the table");
            }
        } finally {
            TestServer.deleteRecursively(data);
            try (Connection db = DriverManager.getConnection(DB, "postgres", ""); Statement s = db.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + table);
            }
        }
    }

    private static final String DB = "jdbc:postgresql://127.0.0.1:5432/test";

    /** The table's control ids, sorted, once it holds {@code n} rows (bounded poll: delivery is asynchronous). */
    private static List<String> awaitRows(String table, int n) throws Exception {
        try (Connection db = DriverManager.getConnection(DB, "postgres", "")) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                ids.clear();
                try (Statement s = db.createStatement(); ResultSet rows = s.executeQuery("SELECT control_id FROM " + table + " ORDER BY control_id")) {
                    while (rows.next()) ids.add(rows.getString(1));
                } catch (java.sql.SQLException notCreatedYet) {
                    // the connector creates the table on its first delivery
                }
                if (ids.size() >= n) break;
                Thread.sleep(10); // the child process writes to PostgreSQL: its table is polled, bounded (30 s)
            }
            return ids;
        }
    }

    /** Each sender sends its messages until done or the child dies; AA'd ones are remembered. */
    private static void send(int port, int cycle, Set<String> acknowledged) throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < SENDERS; t++) {
                int thread = t;
                senders.add(pool.submit(() -> {
                    try (MllpClient client = MllpClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                            Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 20)) {
                        for (int n = 0; n < PER_SENDER; n++) {
                            String id = "K" + cycle + "-T" + thread + "-" + n;
                            if (Hl7Text.of(client.exchange(message(id))).ackCode().equals("AA")) acknowledged.add(id);
                        }
                    } catch (IOException killed) {
                        // the peer killed the child
                    }
                    return null;
                }));
            }
            for (Future<?> sender : senders) sender.get(120, TimeUnit.SECONDS);
        }
    }

    private static List<String> journalOrder(Path data) throws IOException {
        List<String> ids = new ArrayList<>();
        JournalReader.read(data.resolve("journal"), 0, entry -> {
            if (entry.type() == RecordType.MESSAGE) ids.add(StoredMessage.decode(entry.body()).controlId());
        });
        return ids;
    }

    private static byte[] message(String controlId) {
        return ("MSH|^~\\&|CRASH|TEST|MLLP|SERVER|20260101120000||ADT^A08^ADT_A01|" + controlId + "|P|2.5\r"
                + "EVN|A08|20260101120000\rPID|1||" + controlId + "^^^TEST^MR||Crash^Test\rPV1|1|I\r").getBytes(StandardCharsets.US_ASCII);
    }
}
