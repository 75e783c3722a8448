package org.mllpserver.delivery;

import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.MllpPeer;
import org.mllpserver.testing.TestServer;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dispatchers in the running server: FIFO under retries, dead letters, replay, cursors across restarts. */
class DeliveryTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    static String[] env(int peerPort, String... more) {
        List<String> all = new ArrayList<>(List.of(
                "CONNECTOR_PEER_TYPE", "mllp", "CONNECTOR_PEER_URL", "mllp://127.0.0.1:" + peerPort,
                "CONNECTOR_PEER_ACK_TIMEOUT", "2s", "RETRY_INITIAL", "10ms", "RETRY_MAX_DELAY", "40ms", "RETRY_MAX_ATTEMPTS", "5"));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static byte[] message(String controlId) {
        return ("MSH|^~\\&|EHR|FAC|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|P|2.5\r"
                + "EVN|A01|20260101120000\rPID|1||" + controlId + "^^^TEST^MR||Test^Patient\rPV1|1|I\r").getBytes(StandardCharsets.US_ASCII);
    }

    static void sendAll(TestServer server, List<String> ids) throws Exception {
        try (MllpClient client = server.connect()) {
            for (String id : ids) assertEquals("AA", Hl7Text.of(client.exchange(message(id))).ackCode(), id);
        }
    }

    private static List<String> ids(String prefix, int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= n; i++) ids.add(prefix + i);
        return ids;
    }

    @Test
    void aRecordThatFailsThreeTimesHoldsUpThoseBehindItAndAllArriveInOrder() throws Exception {
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.equals("F-3") && arrival <= 3 ? "AE" : "AA");
             TestServer server = TestServer.start(env(peer.port()))) {
            List<String> sent = ids("F-", 10);
            sendAll(server, sent);
            List<String> received = peer.awaitReceived(13, WAIT);
            List<String> expected = new ArrayList<>(List.of("F-1", "F-2", "F-3", "F-3", "F-3", "F-3"));
            expected.addAll(sent.subList(3, 10));
            assertEquals(expected, received);
            awaitDelivered(server, 10);
            DispatcherStats stats = server.server().delivery().stats().get("peer");
            assertEquals(3, stats.failedAttempts());
        }
    }

    @Test
    void aDeadDownstreamHoldsUpOnlyItsOwnConnector() throws Exception {
        try (MllpPeer silent = MllpPeer.start((id, arrival) -> null);
             MllpPeer healthy = MllpPeer.start((id, arrival) -> "AA");
             TestServer server = TestServer.start(env(silent.port(), "CONNECTOR_PEER_ACK_TIMEOUT", "60s",
                     "CONNECTOR_OTHER_TYPE", "mllp", "CONNECTOR_OTHER_URL", "mllp://127.0.0.1:" + healthy.port()))) {
            List<String> sent = ids("H-", 50);
            sendAll(server, sent); // every one answered AA while the silent peer holds the first record
            assertEquals(sent, healthy.awaitReceived(50, WAIT), "the other connector got everything, in order");
            assertEquals(List.of("H-1"), silent.awaitReceived(1, WAIT), "the stuck connector is still waiting on its first record");
            assertEquals(0, server.server().delivery().stats().get("peer").delivered());
        }
    }

    @Test
    void anUndeliverableRecordBecomesADeadLetterThatCanBeReplayedWhileTheServerRuns() throws Exception {
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA");
             TestServer server = TestServer.start(env(peer.port()))) {
            sendAll(server, List.of("D-1", "BAD-2", "D-3", "BAD-4", "D-5"));
            peer.awaitReceived(5, WAIT);
            awaitDeadLetters(server, 2);
            assertEquals(List.of("D-1", "BAD-2", "D-3", "BAD-4", "D-5"), peer.received(), "the dispatcher moved on in order");
            DeadLetterQueue dlq = server.server().deadLetters();
            List<DeadLetterIndex.Entry> dead = dlq.list();
            assertEquals(List.of("BAD-2", "BAD-4"), dead.stream().map(e -> e.controlId()).toList());
            assertTrue(dead.getFirst().lastError().contains("AR"), dead.getFirst().lastError());
            assertEquals(1, dead.getFirst().attempts(), "AR is not retried");

            peer.answer((id, arrival) -> "AA"); // the downstream was fixed
            assertEquals(List.of("peer"), dlq.replay(dead.getFirst().id(), java.util.Optional.empty(), false));
            dlq.purge(dead.get(1).id());
            sendAll(server, List.of("D-6"));
            assertEquals(List.of("D-1", "BAD-2", "D-3", "BAD-4", "D-5", "BAD-2", "D-6"), peer.awaitReceived(7, WAIT),
                    "the replay goes after what was already in the journal, and FIFO holds for what follows");
            assertEquals(List.of(), dlq.list());
        }
    }

    @Test
    void theDlqCommandTalksToTheRunningServer() throws Exception {
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") ? "AR" : "AA");
             TestServer server = TestServer.start(env(peer.port()))) {
            sendAll(server, List.of("C-1", "BAD-C2"));
            peer.awaitReceived(2, WAIT);
            awaitDeadLetters(server, 1);
            Map<String, String> cli = Map.of("DATA_DIR", server.dataDir().toString(), "CONNECTOR_PEER_TYPE", "mllp",
                    "CONNECTOR_PEER_URL", "mllp://127.0.0.1:" + peer.port());
            String list = dlq(cli, 0, "list");
            assertTrue(list.contains("BAD-C2") && list.contains("peer") && list.contains("1 dead letter(s)"), list);
            String id = list.lines().filter(l -> l.contains("BAD-C2")).findFirst().orElseThrow().substring(0, 36);
            String shown = dlq(cli, 0, "show", id);
            assertTrue(shown.contains("PID|1||BAD-C2"), shown);
            assertTrue(dlq(cli, 0, "status").contains("peer"));
            peer.answer((cid, arrival) -> "AA");
            assertTrue(dlq(cli, 0, "replay", id, "--to", "peer").contains("replayed"));
            assertEquals("BAD-C2", peer.awaitReceived(3, WAIT).get(2));
            assertTrue(dlq(cli, 1, "show", id).contains("no open dead letter"));
            assertTrue(dlq(cli, 0, "list").contains("0 dead letter(s)"));

            // The journal shows the dead letter and its replay, and each one's message.
            String journal = journal(cli, "list");
            for (String kind : List.of(" dead ", " replay ")) {
                String line = journal.lines().filter(l -> l.contains(kind) && l.contains("BAD-C2")).findFirst().orElseThrow(() -> new AssertionError(journal));
                assertTrue(journal(cli, "show", line.substring(0, 20)).contains("PID|1||BAD-C2"), kind);
            }
        }
    }

    @Test
    void aStoppedServerResumesFromItsCursorWithoutRepeatingWhatWasDelivered() throws Exception {
        Path data = Files.createTempDirectory("mllp-delivery-");
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> "AA")) {
            try (TestServer server = TestServer.start(env(peer.port(), "DATA_DIR", data.toString()))) {
                sendAll(server, ids("R-", 5));
                peer.awaitReceived(5, WAIT);
                awaitDelivered(server, 5); // a record whose ACK is still on the way at stop is sent again: at least once
                server.stop();
            }
            peer.answer((id, arrival) -> null); // down: nothing is delivered while it is
            try (TestServer server = TestServer.start(env(peer.port(), "DATA_DIR", data.toString(), "CONNECTOR_PEER_ACK_TIMEOUT", "200ms",
                    "RETRY_MAX_ATTEMPTS", "1000"))) {
                sendAll(server, ids("S-", 3)); // the intake does not wait for the downstream
                peer.awaitReceived(6, WAIT);
                server.stop();
            }
            peer.answer((id, arrival) -> "AA");
            try (TestServer server = TestServer.start(env(peer.port(), "DATA_DIR", data.toString()))) {
                List<String> received = peer.awaitControlId("S-3", WAIT);
                List<String> firstArrivals = new ArrayList<>(new LinkedHashSet<>(received));
                assertEquals(List.of("R-1", "R-2", "R-3", "R-4", "R-5", "S-1", "S-2", "S-3"), firstArrivals);
                assertTrue(received.stream().filter(id -> id.startsWith("R-")).count() == 5, "no R record sent twice: " + received);
            }
        } finally {
            TestServer.deleteRecursively(data);
        }
    }

    /** Bounded poll: the dispatcher handles an ACK after the peer sent it. */
    static void awaitDelivered(TestServer server, long n) throws InterruptedException {
        DispatcherStats stats = server.server().delivery().stats().get("peer");
        assertTrue(stats.awaitOutcomes(n, 0, WAIT), stats.delivered() + " delivered");
        assertEquals(n, stats.delivered());
    }

    private static void awaitDeadLetters(TestServer server, int n) throws InterruptedException {
        assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(0, n, WAIT));
        assertEquals(n, server.server().deadLetters().list().size());
    }

    private static String journal(Map<String, String> env, String... args) {
        return command("journal", env, 0, args);
    }

    private static String dlq(Map<String, String> env, int expectedExit, String... args) {
        return command("dlq", env, expectedExit, args);
    }

    /** Runs {@code ./run.sh COMMAND ARGS} in this JVM with {@code env}; returns what it printed. */
    private static String command(String command, Map<String, String> env, int expectedExit, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = command;
        System.arraycopy(args, 0, all, 1, args.length);
        int code = org.mllpserver.app.MainAccess.run(all, env, new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, code, text);
        return text;
    }
}
