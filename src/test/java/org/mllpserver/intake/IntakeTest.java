package org.mllpserver.intake;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The intake through a real server: answers, connection handling and what reaches the log. */
class IntakeTest {

    private static final String PATIENT = "Zyzzyva^Quintessa";
    private static final Logger ROOT = Logger.getLogger("org.mllpserver");

    private final List<String> logLines = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.CountDownLatch closedLogged = new java.util.concurrent.CountDownLatch(1);
    private final Handler capture = new Handler() {
        private final SimpleFormatter formatter = new SimpleFormatter();

        @Override
        public void publish(LogRecord record) {
            String line = formatter.formatMessage(record);
            logLines.add(line);
            if (line.contains("closed")) closedLogged.countDown();
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLogs() {
        capture.setLevel(Level.ALL);
        ROOT.addHandler(capture);
    }

    @AfterEach
    void stopCapturing() {
        ROOT.removeHandler(capture);
    }

    @Test
    void keepsTheConnectionOpenAfterEveryNak() throws Exception {
        try (TestServer server = TestServer.start(); MllpClient client = server.connect()) {
            assertEquals("AE", Hl7Text.of(client.exchange(message("BAD-1", "3.0"))).ackCode());
            assertEquals("AE", Hl7Text.of(client.exchange("not hl7 at all".getBytes(StandardCharsets.US_ASCII))).ackCode());
            assertEquals("AE", Hl7Text.of(client.exchange(new byte[0])).ackCode());
            assertEquals("AA", Hl7Text.of(client.exchange(message("GOOD-1", "2.5"))).ackCode());
        }
    }

    @Test
    void keepsEveryRefusedFrameRawWithItsReason() throws Exception {
        byte[] garbage = {'n', 'o', 't', 0x00, (byte) 0xFF, ' ', 'h', 'l', '7'};
        byte[] badVersion = message("BAD-3", "3.0");
        try (TestServer server = TestServer.start("MAX_FRAME_SIZE", "1KiB"); MllpClient client = server.connect()) {
            client.exchange(garbage);
            client.exchange(badVersion);
            byte[] big = (new String(message("BIG-2", "2.5"), StandardCharsets.US_ASCII) + "x".repeat(3000)).getBytes(StandardCharsets.US_ASCII);
            client.exchange(big);
            server.stop();
            List<org.mllpserver.journal.RefusedFrame> kept = new java.util.ArrayList<>();
            org.mllpserver.journal.JournalReader.read(server.journalDir(), 0, e -> {
                if (e.type() == org.mllpserver.journal.RecordType.REFUSED_FRAME) kept.add(org.mllpserver.journal.RefusedFrame.decode(e.body()));
            });
            assertEquals(3, kept.size());
            assertArrayEquals(garbage, kept.get(0).raw());
            assertTrue(kept.get(0).reason().contains("no MSH segment"), kept.get(0).reason());
            assertArrayEquals(badVersion, kept.get(1).raw());
            assertEquals("BAD-3", kept.get(1).controlId());
            assertTrue(kept.get(1).reason().startsWith("203 Unsupported version id"), kept.get(1).reason());
            assertEquals(1024, kept.get(2).raw().length, "an oversize frame keeps what was read of it");
            assertTrue(kept.get(2).reason().contains("MAX_FRAME_SIZE"), kept.get(2).reason());
        }
    }

    @Test
    void usesTheConfiguredErrorAckCode() throws Exception {
        try (TestServer server = TestServer.start("ERROR_ACK_CODE", "AR"); MllpClient client = server.connect()) {
            assertEquals("AR", Hl7Text.of(client.exchange(message("BAD-2", "3.0"))).ackCode());
        }
    }

    @Test
    void answersAnOversizeFrameWithANakThenCloses() throws Exception {
        try (TestServer server = TestServer.start("MAX_FRAME_SIZE", "1KiB"); MllpClient client = server.connect()) {
            String big = new String(message("BIG-1", "2.5"), StandardCharsets.US_ASCII) + "NTE|1||" + "x".repeat(5000) + "\r";
            Hl7Text ack = Hl7Text.of(client.exchange(big.getBytes(StandardCharsets.US_ASCII)));
            assertEquals("AE", ack.ackCode());
            assertEquals("BIG-1", ack.acknowledgedId());
            assertTrue(ack.segment("ERR").contains("larger than MAX_FRAME_SIZE (1024 bytes)"), ack.segment("ERR"));
            assertThrows(EOFException.class, client::awaitReply, "the connection is closed after the NAK");
        }
    }

    @Test
    void neverLogsMessageContentUnlessAsked() throws Exception {
        try (TestServer server = TestServer.start()) {
            try (MllpClient client = server.connect()) {
                client.exchange(message("LOG-1", "2.5"));
                client.exchange(message("LOG-2", "9.9"));
            }
            awaitLog("closed");
        }
        assertTrue(logLines.stream().anyMatch(l -> l.contains("NAK AE for control id 'LOG-2'") && l.contains("203 Unsupported version id")),
                String.join("\n", logLines));
        assertTrue(logLines.stream().anyMatch(l -> l.contains("opened")), "a line per connection opened");
        assertTrue(logLines.stream().noneMatch(l -> l.contains("Zyzzyva")), "patient data in the log:\n" + String.join("\n", logLines));
    }

    @Test
    void neverQuotesAValueThatMightBePatientData() throws Exception {
        // Segments joined by a literal "\r" text: what stands where MSH-18 should is a patient's name.
        String glued = "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|GLUE-1|P|2.5|||||\\rPID|" + PATIENT + "\r";
        try (TestServer server = TestServer.start(); MllpClient client = server.connect()) {
            Hl7Text nak = Hl7Text.of(client.exchange(glued.getBytes(StandardCharsets.US_ASCII)));
            assertEquals("AE", nak.ackCode());
            assertTrue(nak.segment("ERR").contains("MSH-18 'Zyzzyva"), "the sender is told what it sent: " + nak.segment("ERR"));
        }
        assertTrue(logLines.stream().noneMatch(l -> l.contains("Zyzzyva")), String.join("\n", logLines));
    }

    @Test
    void logsMessageContentWhenTheOperatorAsks() throws Exception {
        try (TestServer server = TestServer.start("LOG_PAYLOADS", "true"); MllpClient client = server.connect()) {
            client.exchange(message("LOG-3", "2.5"));
        }
        assertTrue(logLines.stream().anyMatch(l -> l.contains("Zyzzyva")), String.join("\n", logLines));
    }

    private void awaitLog(String fragment) throws InterruptedException {
        if (!closedLogged.await(5, TimeUnit.SECONDS) && logLines.stream().noneMatch(l -> l.contains(fragment))) {
            throw new AssertionError("no log line with '" + fragment + "':\n" + String.join("\n", logLines));
        }
    }

    private static byte[] message(String controlId, String version) {
        return ("MSH|^~\\&|TEST|TEST|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|P|" + version + "\r"
                + "EVN|A01|20260101120000\rPID|1||42^^^TEST^MR||" + PATIENT + "\rPV1|1|I\r").getBytes(StandardCharsets.US_ASCII);
    }
}
