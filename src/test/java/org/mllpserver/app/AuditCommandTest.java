package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.audit.AuditLog;
import org.mllpserver.events.Events;
import org.mllpserver.journal.ChannelFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** audit list, export and verify: their output and exit codes, while the writer has the audit open and after. */
class AuditCommandTest {

    private static final Instant TUESDAY = Instant.parse("2026-11-24T09:15:00Z");

    @TempDir
    Path dataDir;

    @Test
    void listsExportsAndVerifiesWhileTheWriterRunsAndAfter() throws IOException {
        Map<String, String> env = Map.of("DATA_DIR", dataDir.toString());
        UUID result4471 = UUID.randomUUID();
        AuditLog audit = AuditLog.open(AuditLog.Settings.in(dataDir), Clock.systemUTC(), ChannelFactory.DEFAULT);
        try {
            audit.frameAnswered(frame(TUESDAY, "4470", UUID.randomUUID(), Events.FrameOutcome.ACCEPTED, "AA"));
            audit.frameAnswered(frame(TUESDAY.plusSeconds(60), "4471", result4471, Events.FrameOutcome.ACCEPTED, "AA"));
            audit.frameAnswered(frame(TUESDAY.plusSeconds(120), "4471", result4471, Events.FrameOutcome.DUPLICATE, "AA"));
            audit.frameAnswered(frame(TUESDAY.plusSeconds(180), "4472", UUID.randomUUID(), Events.FrameOutcome.REJECTED, "AR"));
            audit.delivery(new Events.Delivery(TUESDAY.plusSeconds(61), "ehr", Events.DeliveryOutcome.DELIVERED, result4471, 24,
                    "ORU^R01", "4471", 1, 1_000_000, ""));
            audit.flush();

            Run verify = run(env, "verify");
            assertEquals(0, verify.status, verify.err);
            assertTrue(verify.out.startsWith("6 records, head " + audit.head().hash().hex() + "\n"), "while the writer runs: " + verify.out);

            Run list = run(env, "list", "--control-id", "4471", "--since", "2026-11-24T00:00:00Z", "--until", "2026-11-25T00:00:00Z");
            assertEquals(0, list.status, list.err);
            String[] lines = list.out.split("\n");
            assertEquals(4, lines.length, list.out);
            assertTrue(lines[0].startsWith("SEQ") && lines[0].contains("MSH-10"), lines[0]);
            assertTrue(lines[1].contains("delivered") && lines[1].contains("ehr after 1 attempt(s)"), "last recorded first: " + lines[1]);
            assertTrue(lines[2].contains("duplicate") && lines[2].contains("2026-11-24T09:17:00Z"), lines[2]);
            assertTrue(lines[3].contains("accepted") && lines[3].contains(" AA ") && lines[3].contains("record " + result4471), lines[3]);

            Run oldest = run(env, "list", "--event", "accepted", "--limit", "1", "--oldest-first");
            assertEquals(2, oldest.out.split("\n").length, oldest.out);
            assertTrue(oldest.out.contains("4470"), oldest.out);
            assertTrue(oldest.err.contains("oldest 1 matching records shown"), oldest.err);
        } finally {
            audit.close();
        }

        Run export = run(env, "export", "--since", "2026-11-24T00:00:00Z", "--until", "2026-11-25T00:00:00Z");
        assertEquals(0, export.status, export.err);
        List<String> json = Arrays.asList(export.out.split("\n"));
        assertEquals(5, json.size(), "the four frames and the delivery, not the audit's own records of today: " + export.out);
        String accepted = json.stream().filter(l -> l.contains("\"control_id\":\"4471\"") && l.contains("\"event\":\"accepted\"")).findFirst().orElseThrow();
        assertTrue(accepted.startsWith("{\"seq\":") && accepted.endsWith("}"), accepted);
        for (String field : List.of("\"time\":\"2026-11-24T09:16:00Z\"", "\"recovered\":false", "\"peer\":\"10.1.1.1:2575\"",
                "\"record_id\":\"" + result4471 + "\"", "\"payload_sha256\":\"", "\"payload_bytes\":", "\"ack_code\":\"AA\"",
                "\"reasons\":null", "\"prev_hash\":\"", "\"hash\":\"")) {
            assertTrue(accepted.contains(field), field + " in " + accepted);
        }
        assertFalse(export.out.contains("SMITH"), "no message content");
        assertTrue(export.err.contains("5 record(s) exported"), export.err);

        Run verified = run(env, "verify");
        assertEquals(0, verified.status);
        assertTrue(verified.out.startsWith("7 records, head "), verified.out);

        Path segment = dataDir.resolve("audit/00000000000000000000.audit");
        byte[] bytes = Files.readAllBytes(segment);
        bytes[200] ^= 0x01;
        Files.write(segment, bytes);
        Run broken = run(env, "verify");
        assertEquals(1, broken.status, broken.out);
        assertTrue(broken.out.startsWith("chain broken in 00000000000000000000.audit at sequence number "), broken.out);
    }

    @Test
    void refusesBadUsageAndAMissingAudit() {
        Map<String, String> env = Map.of("DATA_DIR", dataDir.toString());
        Run missing = run(env, "verify");
        assertEquals(1, missing.status);
        assertTrue(missing.err.contains("no audit trail in"), missing.err);
        try {
            Files.createDirectories(dataDir.resolve("audit"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(2, run(env).status);
        assertEquals(2, run(env, "list", "--event", "nonsense").status);
        assertTrue(run(env, "list", "--event", "nonsense").err.contains("accepted, duplicate"));
        assertEquals(2, run(env, "list", "--limit", "0").status);
        assertEquals(2, run(env, "list", "--since", "Tuesday").status);
        assertEquals(2, run(env, "export", "--control-id", "1").status);
        assertEquals(2, run(env, "verify", "--now").status);
        Run empty = run(env, "verify");
        assertEquals(0, empty.status);
        assertEquals("0 records, head none\n", empty.out);
    }

    private static Events.FrameAnswered frame(Instant at, String controlId, UUID id, Events.FrameOutcome outcome, String ack) {
        byte[] payload = ("MSH|^~\\&|LAB|LAB|||20261124||ORU^R01|" + controlId + "|P|2.5\rPID|1||1||SMITH^JOHN\r").getBytes(StandardCharsets.US_ASCII);
        return new Events.FrameAnswered(at, "10.1.1.1:2575", "", outcome, ack, "LAB", "LAB", "ORU^R01", controlId, Optional.of(id),
                outcome == Events.FrameOutcome.DUPLICATE ? 24 : 24 + controlId.hashCode() % 100, payload,
                outcome == Events.FrameOutcome.REJECTED ? List.of("pid-required") : List.of());
    }

    record Run(int status, String out, String err) {}

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = AuditCommand.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
