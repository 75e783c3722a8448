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
 * SIGKILL in the middle of delivery: a child server forwards to an MLLP peer in this JVM, and the
 * peer kills the child on a seeded arrival, mid-delivery, 10 times. After the last restart every
 * acknowledged message has reached the peer, and the first arrivals are in journal order (a
 * record may arrive again after a crash: at least once).
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
        try (MllpPeer peer = MllpPeer.start((id, n) -> {
            if (arrivals.incrementAndGet() == killAt.get()) running.get().process.destroyForcibly(); // SIGKILL mid-delivery
            return "AA";
        })) {
            Map<String, String> env = Map.of("DATA_DIR", data.toString(), "LISTEN_ADDR", "127.0.0.1:0",
                    "CONNECTOR_PEER_TYPE", "mllp", "CONNECTOR_PEER_URL", "mllp://127.0.0.1:" + peer.port(),
                    "RETRY_INITIAL", "10ms", "RETRY_MAX_DELAY", "50ms", "RETRY_MAX_ATTEMPTS", "100000");
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
            }
        } finally {
            TestServer.deleteRecursively(data);
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
