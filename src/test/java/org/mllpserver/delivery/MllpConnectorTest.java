package org.mllpserver.delivery;

import org.junit.jupiter.api.Test;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.testing.MllpPeer;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mllp connector against a real MLLP peer answering AA, CA, AE, AR and nothing. */
class MllpConnectorTest {

    static Delivery delivery(String controlId) {
        byte[] raw = ("MSH|^~\\&|A|B|C|D|20260101120000||ADT^A01|" + controlId + "|P|2.5\rPID|1||42\r").getBytes(StandardCharsets.US_ASCII);
        return new Delivery(100, new StoredMessage(UUID.randomUUID(), Instant.now(), "/127.0.0.1:1", "", "A", "B", "ADT^A01", controlId,
                "ISO-8859-1", List.of("peer"), raw));
    }

    private static MllpConnector connector(int port) throws Exception {
        return new MllpConnector("peer", new ConnectorSettings.Mllp("127.0.0.1", port, Duration.ofSeconds(2), Duration.ofMillis(300)));
    }

    @Test
    void theAckDecides() throws Exception {
        try (MllpPeer peer = MllpPeer.start((id, n) -> switch (id) {
            case "OK" -> "AA";
            case "COMMIT" -> "CA";
            case "ERROR" -> "AE";
            case "REJECT" -> "AR";
            case "CREJECT" -> "CR";
            default -> null;
        }); MllpConnector connector = connector(peer.port())) {
            Delivery ok = delivery("OK");
            assertInstanceOf(Outcome.Delivered.class, connector.deliver(ok));
            assertArrayEquals(ok.message().raw(), peer.receivedBytes().getFirst(), "sent exactly as received");
            assertInstanceOf(Outcome.Delivered.class, connector.deliver(delivery("COMMIT")));
            assertInstanceOf(Outcome.Retryable.class, connector.deliver(delivery("ERROR")));
            assertInstanceOf(Outcome.Undeliverable.class, connector.deliver(delivery("REJECT")));
            assertInstanceOf(Outcome.Undeliverable.class, connector.deliver(delivery("CREJECT")));
            Outcome silent = connector.deliver(delivery("SILENT"));
            assertTrue(assertInstanceOf(Outcome.Retryable.class, silent).reason().contains("no ACK"), silent.toString());
            assertInstanceOf(Outcome.Delivered.class, connector.deliver(delivery("OK")), "a fresh connection after the silence");
        }
    }

    @Test
    void enhancedModeMessagesAreDeliveredAsTheyAskToBeAcknowledged() throws Exception {
        try (MllpPeer peer = MllpPeer.start((id, n) -> id.startsWith("ER-BAD") ? "CE" : null); // answers only errors
             MllpConnector connector = connector(peer.port())) {
            assertInstanceOf(Outcome.Delivered.class, connector.deliver(enhanced("NE-1", "NE")), "NE: no ACK to wait for");
            assertInstanceOf(Outcome.Delivered.class, connector.deliver(enhanced("ER-1", "ER")), "ER: silence is success");
            assertInstanceOf(Outcome.Retryable.class, connector.deliver(enhanced("ER-BAD-2", "ER")), "ER: CE is an error");
            assertInstanceOf(Outcome.Retryable.class, connector.deliver(enhanced("AL-1", "AL")), "AL: silence is not success");
            assertEquals(List.of("NE-1", "ER-1", "ER-BAD-2", "AL-1"), peer.received());
        }
    }

    private static Delivery enhanced(String controlId, String acceptAck) {
        byte[] raw = ("MSH|^~\\&|A|B|C|D|20260101120000||ADT^A01|" + controlId + "|P|2.5|||" + acceptAck + "|NE\rPID|1||42\r")
                .getBytes(StandardCharsets.US_ASCII);
        return new Delivery(100, new StoredMessage(UUID.randomUUID(), Instant.now(), "/127.0.0.1:1", "", "A", "B", "ADT^A01", controlId,
                "ISO-8859-1", List.of("peer"), raw));
    }

    @Test
    void aRefusedConnectionMayWorkLater() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0)) {
            port = closed.getLocalPort();
        }
        try (MllpConnector connector = connector(port)) {
            assertTrue(assertInstanceOf(Outcome.Retryable.class, connector.deliver(delivery("X"))).reason().contains("refused"));
        }
    }

    @Test
    void anAckForAnotherMessageIsNotTakenForThisOne() {
        String ack = "MSH|^~\\&|P|P|M|S|20260101||ACK|1|P|2.5\rMSA|AA|OTHER\r";
        assertInstanceOf(Outcome.Retryable.class, MllpConnector.classify(ack, "MINE"));
        assertInstanceOf(Outcome.Retryable.class, MllpConnector.classify("not an ack", "MINE"));
        assertInstanceOf(Outcome.Delivered.class, MllpConnector.classify("MSH#^~\\&#P#P#M#S#2026##ACK#1#P#2.5\rMSA#AA#MINE\r", "MINE"),
                "the ACK's own field separator");
    }
}
