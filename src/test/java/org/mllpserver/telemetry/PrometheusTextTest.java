package org.mllpserver.telemetry;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mllpserver.events.Events.ConnectionOutcome;
import org.mllpserver.events.Events.DeliveryOutcome;
import org.mllpserver.events.Events.FrameOutcome;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Telemetry#prometheusText()} read back line by line with a strict parser of the text format. */
class PrometheusTextTest {

    private static final Clock CLOCK = Clock.fixed(Facts.NOW, ZoneOffset.UTC);
    private static final Set<String> RULES = Set.of("require-pid", "known-type");

    private final Facts.FixedGauges gauges = new Facts.FixedGauges();
    private Telemetry telemetry = new Telemetry(TelemetrySettings.defaults(), RULES, gauges, CLOCK);

    @AfterEach
    void close() {
        telemetry.close();
    }

    @Test
    void countsSeededMessagesByAckCodeAndTableTypeOnly() {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("PrometheusTextTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random random = new Random(seed);
        List<String> types = List.of("ADT", "ORU", "ORM^O01", "SIU^S12^SIU_S12", "ZZZ", "adt", "AD", "", "ADTX", "Z01");
        List<String> acks = List.of("AA", "AR", "AE", "CA", "CR", "CE", "none");
        Map<Map<String, String>, Integer> expected = new HashMap<>();
        int duplicates = 0;
        for (int n = 0; n < 2000; n++) {
            String type = types.get(random.nextInt(types.size()));
            String ack = acks.get(random.nextInt(acks.size()));
            boolean duplicate = random.nextInt(10) == 0;
            telemetry.frameAnswered(Facts.frame(duplicate ? FrameOutcome.DUPLICATE : FrameOutcome.ACCEPTED, ack, type, n));
            expected.merge(Map.of("ack_code", ack, "msg_type", tableType(type)), 1, Integer::sum);
            if (duplicate) duplicates++;
        }
        Exposition text = Exposition.parse(telemetry.prometheusText());
        String context = "seed " + seed;
        expected.forEach((labels, count) -> assertEquals(count, text.valueOf("mllp_server_messages_total", labels), 0, context + " " + labels));
        assertEquals(expected.size(), text.family("mllp_server_messages_total").samples().size(), context + ": no other series");
        assertEquals(duplicates, text.valueOf("mllp_server_duplicates_total", Map.of()), 0, context);
        assertEquals("counter", text.family("mllp_server_messages_total").type());
        assertNoSenderText(text.text());
    }

    private static String tableType(String type) {
        return switch (type) {
            case "ADT", "ORU" -> type;
            case "ORM^O01" -> "ORM";
            case "SIU^S12^SIU_S12" -> "SIU";
            default -> "other";
        };
    }

    @Test
    void countersHistogramsAndGaugesHaveTheReportedValues() {
        feedEverything();
        Exposition text = Exposition.parse(telemetry.prometheusText());

        assertEquals(2, text.valueOf("mllp_server_connections_active", Map.of("listener", "plain")), 0);
        assertEquals(1, text.valueOf("mllp_server_connections_active", Map.of("listener", "tls")), 0);
        assertEquals("gauge", text.family("mllp_server_connections_active").type(), "an up-down counter is a gauge");
        assertEquals(3, text.valueOf("mllp_server_connections_opened_total", Map.of("listener", "plain", "outcome", "accepted")), 0);
        assertEquals(1, text.valueOf("mllp_server_connections_opened_total", Map.of("listener", "plain", "outcome", "over_limit")), 0);
        assertEquals(2, text.valueOf("mllp_server_connections_opened_total", Map.of("listener", "tls", "outcome", "tls_failed")), 0);
        assertEquals(1, text.valueOf("mllp_tls_handshakes_total", Map.of("outcome", "succeeded")), 0);
        assertEquals(2, text.valueOf("mllp_tls_handshakes_total", Map.of("outcome", "failed")), 0);

        assertEquals(3, text.valueOf("mllp_rules_failures_total", Map.of("rule", "require-pid")), 0);
        assertEquals(0, text.valueOf("mllp_rules_failures_total", Map.of("rule", "known-type")), 0, "configured rules start at 0");
        assertEquals(2, text.family("mllp_rules_failures_total").samples().size(), "unconfigured rule names are dropped");

        assertEquals(4, text.valueOf("mllp_delivery_attempts_total", Map.of("connector", "ehr", "outcome", "delivered")), 0);
        assertEquals(1, text.valueOf("mllp_delivery_attempts_total", Map.of("connector", "ehr", "outcome", "retry")), 0);
        assertEquals(1, text.valueOf("mllp_delivery_attempts_total", Map.of("connector", "archive", "outcome", "dead_letter")), 0);
        assertEquals(0, text.valueOf("mllp_delivery_attempts_total", Map.of("connector", "archive", "outcome", "delivered")), 0);
        assertEquals(6, text.family("mllp_delivery_attempts_total").samples().size(), "2 connectors x 3 outcomes; ghost dropped");

        // 30 answers of 300 µs: none at or under 250 µs, all at or under 500 µs.
        assertEquals(0, text.valueOf("mllp_server_ack_duration_seconds_bucket", Map.of("le", "0.00025")), 0);
        assertEquals(30, text.valueOf("mllp_server_ack_duration_seconds_bucket", Map.of("le", "0.0005")), 0);
        assertEquals(30, text.valueOf("mllp_server_ack_duration_seconds_count", Map.of()), 0);
        assertEquals(30 * 0.0003, text.valueOf("mllp_server_ack_duration_seconds_sum", Map.of()), 1e-9);
        assertEquals(0.00005, Double.parseDouble(text.family("mllp_server_ack_duration_seconds").samples().getFirst().labels().get("le")));
        assertEquals(5, text.valueOf("mllp_journal_force_duration_seconds_count", Map.of()), 0);
        assertEquals(5, text.valueOf("mllp_journal_batch_records_bucket", Map.of("le", "16")), 0);
        assertEquals(0, text.valueOf("mllp_journal_batch_records_bucket", Map.of("le", "8")), 0);
        assertEquals(3, text.valueOf("mllp_rules_evaluation_duration_seconds_count", Map.of()), 0);
        assertEquals(5, text.valueOf("mllp_delivery_duration_seconds_count", Map.of("connector", "ehr")), 0, "4 delivered + 1 retry");

        assertEquals(123_456, text.valueOf("mllp_journal_size_bytes", Map.of()), 0);
        assertEquals(7, text.valueOf("mllp_delivery_backlog", Map.of("connector", "ehr")), 0);
        assertEquals(2.5, text.valueOf("mllp_delivery_lag_seconds", Map.of("connector", "ehr")), 1e-9);
        assertEquals(3, text.valueOf("mllp_dead_letters_open", Map.of("connector", "archive")), 0);
        assertEquals(30 * 86_400, text.valueOf("mllp_tls_certificate_expiry_seconds", Map.of()), 0);

        for (Exposition.Family family : text.families().values()) {
            if (family.type().equals("histogram")) Exposition.assertHistogramsWellFormed(family);
            if (family.type().equals("counter")) assertTrue(family.name().endsWith("_total"), family.name());
        }
        assertNoSenderText(text.text());
    }

    private void feedEverything() {
        for (int i = 0; i < 3; i++) telemetry.connectionOpened("plain", ConnectionOutcome.ACCEPTED);
        telemetry.connectionClosed("plain");
        telemetry.connectionOpened("plain", ConnectionOutcome.OVER_LIMIT);
        telemetry.connectionOpened("tls", ConnectionOutcome.ACCEPTED);
        telemetry.connectionOpened("tls", ConnectionOutcome.TLS_FAILED);
        telemetry.connectionOpened("tls", ConnectionOutcome.TLS_FAILED);
        telemetry.connectionOpened(Facts.PEER, ConnectionOutcome.ACCEPTED); // not a listener: not counted
        for (int i = 0; i < 30; i++) telemetry.ackWritten("plain", 300_000);
        for (int i = 0; i < 3; i++) telemetry.rulesEvaluated(20_000, List.of("require-pid", "not-configured"));
        for (int i = 0; i < 5; i++) telemetry.journalForced(16, 16 * 1024, 150_000);
        for (int i = 0; i < 4; i++) telemetry.delivery(Facts.delivery("ehr", DeliveryOutcome.DELIVERED, 2_000_000));
        telemetry.delivery(Facts.delivery("ehr", DeliveryOutcome.RETRY, 30_000_000));
        telemetry.delivery(Facts.delivery("archive", DeliveryOutcome.DEAD_LETTER, 1_000_000));
        telemetry.delivery(Facts.delivery("ghost", DeliveryOutcome.DELIVERED, 1_000_000)); // not configured: not counted
    }

    @Test
    void gaugesAreReadOnlyWhenCollected() {
        feedEverything();
        assertEquals(0, gauges.reads.get(), "facts never read the gauges");
        telemetry.prometheusText();
        assertTrue(gauges.reads.get() > 0);
    }

    @Test
    void theResourceIsTargetInfoWithEscapedLabels() {
        telemetry.close();
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of(
                "OTEL_SERVICE_NAME", "mllp-east",
                "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,note=a%22b%5Cc%0Ad"));
        telemetry = new Telemetry(settings, RULES, gauges, CLOCK);
        Exposition text = Exposition.parse(telemetry.prometheusText());
        Exposition.Family info = text.family("target_info");
        assertEquals("gauge", info.type());
        assertEquals(1, info.samples().size());
        Map<String, String> labels = info.samples().getFirst().labels();
        assertEquals("mllp-east", labels.get("service_name"));
        assertEquals("prod", labels.get("deployment_environment"));
        assertEquals("a\"b\\c\nd", labels.get("note"), "quote, backslash and line feed escaped, and read back");
        assertTrue(text.text().contains("note=\"a\\\"b\\\\c\\nd\""), text.text());
        assertEquals("java", labels.get("telemetry_sdk_language"));
        assertFalse(text.families().values().stream().filter(f -> !f.name().equals("target_info"))
                .flatMap(f -> f.samples().stream()).anyMatch(s -> s.labels().containsKey("service_name")),
                "resource attributes only on target_info");
    }

    @Test
    void jvmFiguresUseSemanticConventionNames() {
        Exposition text = Exposition.parse(telemetry.prometheusText());
        assertEquals("counter", text.family("process_cpu_time_seconds_total").type());
        assertTrue(text.valueOf("process_cpu_time_seconds_total", Map.of()) > 0);
        assertEquals("gauge", text.family("jvm_memory_used_bytes").type());
        assertTrue(text.family("jvm_memory_used_bytes").samples().stream().anyMatch(s -> s.labels().get("jvm_memory_type").equals("heap")));
        assertTrue(text.valueOf("jvm_thread_count", Map.of("jvm_thread_daemon", "false")) >= 1);
        assertTrue(text.valueOf("jvm_cpu_count", Map.of()) >= 1);
        assertEquals("counter", text.family("jvm_class_loaded_total").type());
    }

    @Test
    void afterCloseOnlyTargetInfoRemainsAndFactsAreIgnored() {
        telemetry.close();
        telemetry.frameAnswered(Facts.frame(FrameOutcome.ACCEPTED, "AA", "ADT", 1));
        Exposition text = Exposition.parse(telemetry.prometheusText());
        assertEquals(Set.of("target_info"), text.families().keySet());
    }

    @Test
    void ackCodesIndexTheirList() {
        for (int i = 0; i < ServerMetrics.ACK_CODES.size(); i++) {
            assertEquals(i, ServerMetrics.ackIndex(ServerMetrics.ACK_CODES.get(i)), ServerMetrics.ACK_CODES.get(i));
        }
        assertEquals(ServerMetrics.ACK_CODES.indexOf("other"), ServerMetrics.ackIndex(null));
        assertEquals(ServerMetrics.ACK_CODES.indexOf("other"), ServerMetrics.ackIndex("aa"));
    }

    @Test
    void nullAndUnknownNamesAreDroppedNeverThrown() {
        telemetry.frameAnswered(Facts.frame(null, null, null, 1));
        telemetry.connectionOpened(null, ConnectionOutcome.ACCEPTED);
        telemetry.connectionOpened("plain", null);
        telemetry.connectionClosed(null);
        telemetry.rulesEvaluated(-5, null);
        telemetry.rulesEvaluated(1_000, Arrays.asList("require-pid", null));
        telemetry.delivery(Facts.delivery(null, DeliveryOutcome.DELIVERED, 1));
        telemetry.delivery(Facts.delivery("ehr", null, 1));
        telemetry.ackWritten(null, -1);
        Exposition text = Exposition.parse(telemetry.prometheusText());
        assertEquals(1, text.valueOf("mllp_server_messages_total", Map.of("ack_code", "other", "msg_type", "other")), 0);
        assertEquals(1, text.valueOf("mllp_rules_failures_total", Map.of("rule", "require-pid")), 0);
        assertEquals(0.000001, text.valueOf("mllp_rules_evaluation_duration_seconds_sum", Map.of()), 1e-12, "a negative time counts as 0");
        assertEquals(1, text.valueOf("mllp_server_ack_duration_seconds_bucket", Map.of("le", "0.00005")), 0);
        assertFalse(text.families().containsKey("mllp_server_connections_opened_total"));
        assertEquals(0, text.valueOf("mllp_delivery_attempts_total", Map.of("connector", "ehr", "outcome", "delivered")), 0);
    }

    @Test
    void messageTypesAreTable0076() {
        assertEquals(126, MessageTypes.TABLE_0076.size());
        for (int i = 0; i < MessageTypes.TABLE_0076.size(); i++) {
            assertEquals(i, MessageTypes.index(MessageTypes.TABLE_0076.get(i)));
        }
        for (String notInTable : new String[] {"ZZZ", "adt", "AD", "", null, "ADTX", "ÄDT", "A1T", "ADT1"}) {
            assertEquals(MessageTypes.OTHER_INDEX, MessageTypes.index(notInTable), String.valueOf(notInTable));
        }
        assertEquals("ADT", MessageTypes.name(MessageTypes.index("ADT^A01^ADT_A01")));
        assertEquals("ORU", MessageTypes.name(MessageTypes.index("ORU&R01")), "any separator ends MSH-9.1");
    }

    @Test
    void namesNumbersAndEscapesFollowTheFormat() {
        assertEquals("mllp_server_messages", PrometheusText.sanitize("mllp.server.messages"));
        assertEquals("a_b_c", PrometheusText.sanitize("a.b-c"));
        assertEquals("a_b", PrometheusText.sanitize("a__b"));
        assertEquals("_9lives", PrometheusText.sanitize("9lives"));
        assertEquals("jvm_memory_used", PrometheusText.sanitize("jvm_memory_used"));
        assertEquals("0.00005", PrometheusText.number(0.00005));
        assertEquals("10", PrometheusText.number(10.0));
        assertEquals("0", PrometheusText.number(0.0));
        assertEquals("-2.5", PrometheusText.number(-2.5));
        assertEquals("1.0E20", PrometheusText.number(1e20));
        assertEquals("+Inf", PrometheusText.number(Double.POSITIVE_INFINITY));
        assertEquals("-Inf", PrometheusText.number(Double.NEGATIVE_INFINITY));
        assertEquals("NaN", PrometheusText.number(Double.NaN));
        assertEquals("a\\\\\\\"b\\nc", PrometheusText.escapeLabel("a\\\"b\nc"), "backslash, quote, line feed");
        assertEquals("x\\\\y\\n\"", PrometheusText.escapeHelp("x\\y\n\""));
    }

    @Test
    void keysThatBecomeOneLabelShareIt() {
        telemetry.close();
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of("OTEL_RESOURCE_ATTRIBUTES", "a.b=1,a_b=2"));
        telemetry = new Telemetry(settings, RULES, gauges, CLOCK);
        Exposition text = Exposition.parse(telemetry.prometheusText());
        assertEquals("1;2", text.family("target_info").samples().getFirst().labels().get("a_b"));
    }

    private static void assertNoSenderText(String text) {
        assertFalse(text.contains(Facts.CONTROL_ID_PREFIX), "no MSH-10 in metrics");
        assertFalse(text.contains("203.0.113.77"), "no peer address in metrics");
        assertFalse(text.contains("HTTP 503"), "no failure reason in metrics");
    }
}
