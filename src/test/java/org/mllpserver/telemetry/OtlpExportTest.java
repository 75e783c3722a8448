package org.mllpserver.telemetry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mllpserver.events.Events.DeliveryOutcome;
import org.mllpserver.events.Events.FrameOutcome;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Export over OTLP http/protobuf to a real receiver on loopback (the JDK's HTTP server, decoding
 * with the protocol's own classes), and how long close takes with no endpoint, a live one and a
 * silent one.
 */
class OtlpExportTest {

    private static final Clock CLOCK = Clock.fixed(Facts.NOW, ZoneOffset.UTC);
    /** Long enough for a loaded machine; a healthy run sees its data within one 200 ms interval or two. */
    private static final Duration RECEIVE_DEADLINE = Duration.ofSeconds(20);

    /** An export as it arrived, with the values of its x-api-key header. */
    private record Received(ExportMetricsServiceRequest request, List<String> apiKey) {}

    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private HttpServer receiver;
    private ServerSocket silent;

    @AfterEach
    void stop() throws IOException {
        if (receiver != null) receiver.stop(0);
        if (silent != null) silent.close();
    }

    private String startReceiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/v1/metrics", this::receive);
        receiver.start();
        return "http://127.0.0.1:" + receiver.getAddress().getPort();
    }

    private void receive(HttpExchange exchange) throws IOException {
        try (exchange; InputStream body = exchange.getRequestBody()) {
            ExportMetricsServiceRequest request = ExportMetricsServiceRequest.parseFrom(body.readAllBytes());
            received.add(new Received(request, List.copyOf(exchange.getRequestHeaders().getOrDefault("x-api-key", List.of()))));
            byte[] answer = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
            exchange.getResponseBody().write(answer);
        }
    }

    @Test
    void exportsTheCountedFactsWithTheResourceAndHeader() throws Exception {
        String base = startReceiver();
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", base,
                "OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s3cr%3Dt",
                "OTEL_METRIC_EXPORT_INTERVAL", "200",
                "OTEL_SERVICE_NAME", "mllp-test"));
        try (Telemetry telemetry = new Telemetry(settings, Set.of("require-pid"), new Facts.FixedGauges(), CLOCK)) {
            feed(telemetry);
            Received match = awaitExport(this::hasExpectedValues);
            assertEquals(List.of("s3cr=t"), match.apiKey(), "the configured header, URL-decoded");
            ResourceMetrics resource = match.request().getResourceMetrics(0);
            assertEquals("mllp-test", attributes(resource.getResource().getAttributesList()).get("service.name"));
            assertEquals(Telemetry.SCOPE, resource.getScopeMetrics(0).getScope().getName());
            assertFalse(match.request().toString().contains(Facts.CONTROL_ID_PREFIX), "no MSH-10 leaves the process");
        }
    }

    /** 25 accepted ADT, 3 rejected ORU, 2 duplicates; deliveries; forces; rules; answers. */
    private static void feed(Telemetry telemetry) {
        for (int n = 0; n < 25; n++) telemetry.frameAnswered(Facts.frame(FrameOutcome.ACCEPTED, "AA", "ADT", n));
        for (int n = 0; n < 3; n++) telemetry.frameAnswered(Facts.frame(FrameOutcome.REJECTED, "AR", "ORU", 100 + n));
        for (int n = 0; n < 2; n++) telemetry.frameAnswered(Facts.frame(FrameOutcome.DUPLICATE, "AA", "ADT", n));
        for (int n = 0; n < 30; n++) telemetry.ackWritten("plain", 280_000);
        for (int n = 0; n < 30; n++) telemetry.rulesEvaluated(25_000, n < 3 ? List.of("require-pid") : List.of());
        for (int n = 0; n < 6; n++) telemetry.journalForced(5, 5 * 2048, 120_000);
        for (int n = 0; n < 4; n++) telemetry.delivery(Facts.delivery("ehr", DeliveryOutcome.DELIVERED, 1_500_000));
        for (int n = 0; n < 2; n++) telemetry.delivery(Facts.delivery("ehr", DeliveryOutcome.RETRY, 9_000_000));
        telemetry.delivery(Facts.delivery("archive", DeliveryOutcome.DEAD_LETTER, 4_000_000));
    }

    /** True when this export carries exactly the values {@link #feed} reported. */
    private boolean hasExpectedValues(ExportMetricsServiceRequest request) {
        Map<String, Metric> metrics = request.getResourceMetricsList().stream().flatMap(r -> r.getScopeMetricsList().stream())
                .flatMap(s -> s.getMetricsList().stream()).collect(Collectors.toMap(Metric::getName, m -> m, (a, b) -> a));
        return sum(metrics, "mllp.server.messages", Map.of("ack_code", "AA", "msg_type", "ADT")) == 27
                && sum(metrics, "mllp.server.messages", Map.of("ack_code", "AR", "msg_type", "ORU")) == 3
                && sum(metrics, "mllp.server.duplicates", Map.of()) == 2
                && sum(metrics, "mllp.rules.failures", Map.of("rule", "require-pid")) == 3
                && sum(metrics, "mllp.delivery.attempts", Map.of("connector", "ehr", "outcome", "delivered")) == 4
                && sum(metrics, "mllp.delivery.attempts", Map.of("connector", "ehr", "outcome", "retry")) == 2
                && sum(metrics, "mllp.delivery.attempts", Map.of("connector", "archive", "outcome", "dead_letter")) == 1
                && histogramCount(metrics, "mllp.server.ack.duration", Map.of()) == 30
                && histogramCount(metrics, "mllp.rules.evaluation.duration", Map.of()) == 30
                && histogramCount(metrics, "mllp.journal.force.duration", Map.of()) == 6
                && histogramCount(metrics, "mllp.journal.batch.records", Map.of()) == 6
                && histogramCount(metrics, "mllp.delivery.duration", Map.of("connector", "ehr")) == 6
                && gauge(metrics, "mllp.delivery.backlog", Map.of("connector", "ehr")) == 7;
    }

    private static long sum(Map<String, Metric> metrics, String name, Map<String, String> attributes) {
        return Optional.ofNullable(metrics.get(name)).stream().flatMap(m -> m.getSum().getDataPointsList().stream())
                .filter(p -> attributes(p.getAttributesList()).equals(attributes)).mapToLong(NumberDataPoint::getAsInt).findFirst().orElse(-1);
    }

    private static long gauge(Map<String, Metric> metrics, String name, Map<String, String> attributes) {
        return Optional.ofNullable(metrics.get(name)).stream().flatMap(m -> m.getGauge().getDataPointsList().stream())
                .filter(p -> attributes(p.getAttributesList()).equals(attributes)).mapToLong(NumberDataPoint::getAsInt).findFirst().orElse(-1);
    }

    private static long histogramCount(Map<String, Metric> metrics, String name, Map<String, String> attributes) {
        return Optional.ofNullable(metrics.get(name)).stream().flatMap(m -> m.getHistogram().getDataPointsList().stream())
                .filter(p -> attributes(p.getAttributesList()).equals(attributes)).mapToLong(p -> p.getCount()).findFirst().orElse(-1);
    }

    private static Map<String, String> attributes(List<KeyValue> list) {
        Map<String, String> map = new TreeMap<>();
        for (KeyValue kv : list) map.put(kv.getKey(), kv.getValue().getStringValue());
        return map;
    }

    /** Blocks for each export as it arrives until one matches, or fails at the deadline. */
    private Received awaitExport(Predicate<ExportMetricsServiceRequest> matches) throws InterruptedException {
        long deadline = System.nanoTime() + RECEIVE_DEADLINE.toNanos();
        int seen = 0;
        while (true) {
            long left = deadline - System.nanoTime();
            Received next = left > 0 ? received.poll(left, TimeUnit.NANOSECONDS) : null;
            if (next == null) fail("no export with the expected values within " + RECEIVE_DEADLINE + " (" + seen + " exports seen)");
            seen++;
            if (matches.test(next.request())) return next;
        }
    }

    @Test
    void withoutAnEndpointCloseReturnsAtOnce() {
        Telemetry telemetry = new Telemetry(TelemetrySettings.defaults(), Set.of(), Gauges.NONE, CLOCK);
        feed(telemetry);
        assertFalse(telemetry.exporting());
        long start = System.nanoTime();
        telemetry.close();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("OtlpExportTest: close without an endpoint took " + millis + " ms");
        assertTrue(millis < 1000, "close took " + millis + " ms");
    }

    @Test
    void closeSendsTheLastPointsToALiveCollector() throws Exception {
        String base = startReceiver();
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", base,
                "OTEL_METRIC_EXPORT_INTERVAL", "300000"));
        Telemetry telemetry = new Telemetry(settings, Set.of("require-pid"), new Facts.FixedGauges(), CLOCK);
        feed(telemetry);
        long start = System.nanoTime();
        telemetry.close();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("OtlpExportTest: close with a live collector took " + millis + " ms");
        Received last = received.poll(0, TimeUnit.SECONDS);
        assertTrue(last != null && hasExpectedValues(last.request()), "the final export carried everything");
        assertTrue(millis < Telemetry.CLOSE_DEADLINE.toMillis(), "close took " + millis + " ms");
    }

    @Test
    void closeDoesNotRetryACollectorThatIsDown() throws Exception {
        int refusing;
        try (ServerSocket bound = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            refusing = bound.getLocalPort(); // closed again: connections to it are refused
        }
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:" + refusing + "/v1/metrics",
                "OTEL_METRIC_EXPORT_INTERVAL", "300000"));
        Telemetry telemetry = new Telemetry(settings, Set.of(), new Facts.FixedGauges(), CLOCK);
        feed(telemetry);
        long start = System.nanoTime();
        telemetry.close();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("OtlpExportTest: close with a refusing collector took " + millis + " ms");
        // The SDK's default retry policy would back off 1 + 1.5 + 2.25 s... and meet the deadline.
        assertTrue(millis < 2000, "close took " + millis + " ms");
    }

    @Test
    void closeIsBoundedWhenTheCollectorDoesNotAnswer() throws Exception {
        // Connections are accepted by the kernel (the backlog) and never answered.
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:" + silent.getLocalPort() + "/v1/metrics",
                "OTEL_METRIC_EXPORT_INTERVAL", "300000"));
        Telemetry telemetry = new Telemetry(settings, Set.of(), new Facts.FixedGauges(), CLOCK);
        feed(telemetry);
        long start = System.nanoTime();
        telemetry.close();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("OtlpExportTest: close with a silent collector took " + millis + " ms");
        assertTrue(millis >= Telemetry.CLOSE_DEADLINE.toMillis() - 100, "close waited for the last export: " + millis + " ms");
        assertTrue(millis < Telemetry.CLOSE_DEADLINE.toMillis() + 1000, "close took " + millis + " ms");
    }
}
