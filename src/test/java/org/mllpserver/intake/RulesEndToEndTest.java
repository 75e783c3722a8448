package org.mllpserver.intake;

import org.junit.jupiter.api.Test;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RefusedFrame;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rules and filters in the running server: AR with the rule's name, AE on a runaway, addressed records. */
class RulesEndToEndTest {

    private static final String[] ROUTING = {
            "VALIDATION_RULE_REQUIRE_PATIENT_ID", "pid.id != \"\"",
            "VALIDATION_RULE_PRODUCTION_ONLY", "msh.processing_id == \"P\"",
            "CONNECTOR_EHR_INGEST_TYPE", "http", "CONNECTOR_EHR_INGEST_URL", "https://ehr.example.com/hl7",
            "CONNECTOR_EHR_INGEST_FILTER", "msh.msg_type == \"ADT\"",
            "CONNECTOR_LAB_ARCHIVE_TYPE", "postgres", "CONNECTOR_LAB_ARCHIVE_FILTER", "msh.msg_type == \"ORU\"",
            "CONNECTOR_CRITICAL_TYPE", "mllp", "CONNECTOR_CRITICAL_URL", "mllp://127.0.0.1:2576",
            "CONNECTOR_CRITICAL_FILTER", "obx_list.exists(o, o.abnormal_flags in [\"HH\", \"LL\"])",
            "CONNECTOR_EVERYTHING_TYPE", "file", "CONNECTOR_EVERYTHING_DIRECTORY", "/tmp/unused"};

    @Test
    void recordsAreAddressedByTheFiltersAndRejectionsNameTheirRules() throws Exception {
        try (TestServer server = TestServer.start(ROUTING); MllpClient client = server.connect()) {
            assertEquals("AA", send(client, adt("A-1", "42", "P")).ackCode());
            assertEquals("AA", send(client, oru("O-1", "H")).ackCode());
            assertEquals("AA", send(client, oru("O-2", "HH")).ackCode());

            Hl7Text rejected = send(client, adt("A-2", "", "T"));
            assertEquals("AR", rejected.ackCode());
            assertEquals("A-2", rejected.acknowledgedId());
            List<String> errs = rejected.all("ERR");
            assertEquals(2, errs.size(), "one ERR per failed rule: " + errs);
            // Rules only in the environment run in name order.
            assertTrue(errs.get(0).contains("validation rule production-only failed"), errs.toString());
            assertTrue(errs.get(1).contains("validation rule require-patient-id failed"), errs.toString());
            assertTrue(rejected.field("MSA", 3).contains("production-only"), rejected.field("MSA", 3));

            assertEquals("AA", send(client, adt("A-3", "43", "P")).ackCode(), "the connection stays open after AR");
            String enhanced = new String(adt("A-4", "", "P"), StandardCharsets.US_ASCII).replace("|P|2.5\r", "|P|2.5|||AL|NE\r");
            assertEquals("CR", send(client, enhanced.getBytes(StandardCharsets.US_ASCII)).ackCode());
            assertEquals("AA", send(client, siu("S-1")).ackCode(), "a message matching no filter but 'everything' is stored");
            assertEquals(2, server.server().intakeStats().rejectedByRules());
            server.stop();

            Map<String, List<String>> addressed = new LinkedHashMap<>();
            List<String> refused = new ArrayList<>();
            JournalReader.read(server.journalDir(), 0, e -> {
                if (e.type() == RecordType.MESSAGE) {
                    StoredMessage m = StoredMessage.decode(e.body());
                    addressed.put(m.controlId(), m.connectors());
                } else if (e.type() == RecordType.REFUSED_FRAME) {
                    RefusedFrame f = RefusedFrame.decode(e.body());
                    refused.add(f.controlId() + ": " + f.reason());
                }
            });
            assertEquals(List.of("ehr-ingest", "everything"), addressed.get("A-1"));
            // Connectors only in the environment are in name order.
            assertEquals(List.of("everything", "lab-archive"), addressed.get("O-1"));
            assertEquals(List.of("critical", "everything", "lab-archive"), addressed.get("O-2"));
            assertEquals(List.of("everything"), addressed.get("S-1"));
            assertEquals(List.of("A-1", "O-1", "O-2", "A-3", "S-1"), List.copyOf(addressed.keySet()), "rejected messages are not stored as messages");
            assertEquals(2, refused.size(), "rejected messages are kept with their reason: " + refused);
            assertTrue(refused.getFirst().startsWith("A-2: ") && refused.getFirst().contains("production-only"), refused.toString());
        }
    }

    @Test
    void aMessageMatchingNoConnectorIsStoredAndCounted() throws Exception {
        try (TestServer server = TestServer.start("CONNECTOR_LAB_TYPE", "postgres", "CONNECTOR_LAB_FILTER", "msh.msg_type == 'ORU'");
             MllpClient client = server.connect()) {
            assertEquals("AA", send(client, adt("N-1", "1", "P")).ackCode());
            assertEquals(1, server.server().intakeStats().addressedToNoConnector());
            server.stop();
            assertEquals(List.of("N-1"), StorageFailureTest.storedControlIds(server.journalDir()));
        }
    }

    @Test
    void theRejectionCodeIsConfigurable() throws Exception {
        try (TestServer server = TestServer.start("VALIDATION_RULE_HAS_PID", "pid.id != ''", "VALIDATION_ACK_CODE", "AE");
             MllpClient client = server.connect()) {
            assertEquals("AE", send(client, adt("C-1", "", "P")).ackCode());
        }
    }

    @Test
    void aRuleThatRunsAwayOnAHugeMessageGetsAeAndTheServerGoesOn() throws Exception {
        StringBuilder big = new StringBuilder("MSH|^~\\&|LAB|F|HUB|F|20260101120000||ORU^R01^ORU_R01|BIG-1|P|2.5.1\rPID|1||7\r");
        for (int i = 1; i <= 10_000; i++) big.append("OBX|").append(i).append("|NM|C").append(i).append("^Test||").append(i).append("||||||F\r");
        try (TestServer server = TestServer.start("VALIDATION_RULE_ALL_FINAL", "obx_list.all(o, o.status == 'F')",
                "MAX_RULE_STEPS", "20000");
             MllpClient client = server.connect()) {
            Hl7Text answer = send(client, big.toString().getBytes(StandardCharsets.US_ASCII));
            assertEquals("AE", answer.ackCode());
            assertTrue(answer.segment("ERR").contains("budget of 20000 evaluation steps"), answer.segment("ERR"));
            assertEquals("AA", send(client, oru("AFTER-1", "N")).ackCode(), "the same rule on a normal message");
            assertEquals(1, server.server().intakeStats().ruleErrorCount());
        }
    }

    private static Hl7Text send(MllpClient client, byte[] message) throws java.io.IOException {
        return Hl7Text.of(client.exchange(message));
    }

    static byte[] adt(String controlId, String patientId, String processingId) {
        return ("MSH|^~\\&|EHR|FAC|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|" + processingId + "|2.5\r"
                + "EVN|A01|20260101120000\rPID|1||" + patientId + "^^^TEST^MR||Test^Patient\rPV1|1|I\r").getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] oru(String controlId, String flag) throws java.io.IOException {
        String text = Files.readString(Path.of("test-data/messages/oru_r01.hl7"), StandardCharsets.UTF_8)
                .replace("ORU-R01-0001", controlId).replaceFirst("\\|70-99\\|N\\|", "|70-99|" + flag + "|");
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] siu(String controlId) throws java.io.IOException {
        String text = Files.readString(Path.of("test-data/messages/siu_s12.hl7"), StandardCharsets.UTF_8);
        String id = Hl7Text.of(text.getBytes(StandardCharsets.UTF_8)).field("MSH", 10);
        return text.replace("|" + id + "|", "|" + controlId + "|").getBytes(StandardCharsets.UTF_8);
    }
}
