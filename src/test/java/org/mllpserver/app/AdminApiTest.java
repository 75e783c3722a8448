package org.mllpserver.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.MllpPeer;
import org.mllpserver.testing.TestServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The admin listener of a whole running server, over real HTTP: probes, metrics, the API and its access rules. */
class AdminApiTest {

    private static final String TOKEN = "s3cret-token-for-tests-0123456789";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void readinessGoes503FirstWhenTheServerStopsWhileLivenessStaysOk() throws Exception {
        try (TestServer server = TestServer.start("DRAIN_TIMEOUT", "10s")) {
            int admin = server.server().adminPort();
            assertEquals(200, get(admin, "/readyz", null).statusCode());
            assertEquals(200, get(admin, "/healthz", null).statusCode());
            try (Socket busy = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
                busy.getOutputStream().write(new byte[]{0x0B, 'M', 'S', 'H'}); // a frame in flight: the drain waits for it
                awaitTrue(() -> server.server().listenerStats().open() == 1);
                CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> {
                    try {
                        server.stop();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                HttpResponse<String> ready = awaitStatus(admin, "/readyz", 503);
                assertTrue(ready.body().contains("stopping"), ready.body());
                assertEquals(200, get(admin, "/healthz", null).statusCode(), "draining is not a liveness failure");
                busy.close();
                stopping.get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void metricsCountTheMessagesAndAreValidPrometheusText() throws Exception {
        try (TestServer server = TestServer.start()) {
            send(server, "M-", 7);
            try (MllpClient client = server.connect()) {
                assertEquals("AA", Hl7Text.of(client.exchange(ServerProcessTest.adt("M-1"))).ackCode()); // a duplicate
            }
            HttpResponse<String> metrics = get(server.server().adminPort(), "/metrics", null);
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            String text = metrics.body();
            for (String line : text.lines().toList()) {
                assertTrue(line.isEmpty() || line.startsWith("# ") || line.matches("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*})? -?[0-9.eE+-]+|.* (NaN|\\+Inf|-Inf)"),
                        "a sample line: " + line);
            }
            assertEquals(8.0, sample(text, "mllp_server_messages_total", "ack_code=\"AA\",msg_type=\"ADT\""));
            assertEquals(1.0, sample(text, "mllp_server_duplicates_total", ""));
            assertEquals(8.0, sample(text, "mllp_server_ack_duration_seconds_count", ""));
            assertTrue(text.contains("mllp_journal_size_bytes"), "the journal's size");
            assertTrue(!text.contains("M-1") && !text.contains("127.0.0.1"), "no control id, no peer address");
        }
    }

    @Test
    void theNamedInstrumentsReachARealOtlpReceiverWithTheRightValues() throws Exception {
        LinkedBlockingQueue<ExportMetricsServiceRequest> received = new LinkedBlockingQueue<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/v1/metrics", exchange -> receive(exchange, received));
        receiver.start();
        try (TestServer server = TestServer.start("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + receiver.getAddress().getPort(),
                "OTEL_METRIC_EXPORT_INTERVAL", "200", "OTEL_SERVICE_NAME", "lab-gateway")) {
            send(server, "O-", 5);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            double accepted = 0;
            while (accepted < 5 && System.nanoTime() < deadline) {
                ExportMetricsServiceRequest request = received.poll(1, TimeUnit.SECONDS);
                if (request == null) continue;
                assertEquals("lab-gateway", request.getResourceMetrics(0).getResource().getAttributesList().stream()
                        .filter(kv -> kv.getKey().equals("service.name")).findFirst().orElseThrow().getValue().getStringValue());
                accepted = points(request, "mllp.server.messages").stream()
                        .filter(p -> p.getAttributesList().stream().anyMatch(kv -> kv.getKey().equals("ack_code") && kv.getValue().getStringValue().equals("AA")))
                        .mapToDouble(p -> p.hasAsInt() ? p.getAsInt() : p.getAsDouble()).sum();
            }
            assertEquals(5.0, accepted, "mllp.server.messages{ack_code=AA} exported");
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void theApiNeedsTheTokenWhenOneIsSetAndAnswersJsonErrors() throws Exception {
        try (TestServer server = TestServer.start("ADMIN_TOKEN", TOKEN, "LOG_BUFFER_LINES", "5")) {
            int admin = server.server().adminPort();
            HttpResponse<String> none = get(admin, "/api/status", null);
            assertEquals(401, none.statusCode());
            assertTrue(none.body().contains("ADMIN_TOKEN") && none.body().contains("\"error\":"), none.body());
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
            assertEquals(401, get(admin, "/api/status", "wrong-token-of-the-same-size-123").statusCode());
            HttpResponse<String> status = get(admin, "/api/status", TOKEN);
            assertEquals(200, status.statusCode());
            assertTrue(status.body().contains("\"version\"") && status.body().contains("\"listeners\"") && status.body().contains("\"journal\""),
                    status.body());
            assertEquals(200, get(admin, "/metrics", null).statusCode(), "probes and scrapers need no token");
            assertEquals(200, get(admin, "/healthz", null).statusCode());

            assertEquals(404, get(admin, "/api/nothing", TOKEN).statusCode());
            assertEquals(404, get(admin, "/nothing", null).statusCode());
            HttpResponse<String> post = send(admin, "POST", "/healthz", null, "");
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
            assertEquals(400, get(admin, "/api/logs?limit=zero", TOKEN).statusCode());
            assertEquals(400, get(admin, "/api/logs?level=LOUD", TOKEN).statusCode());
            assertEquals(413, send(admin, "POST", "/api/dead-letters/replay-all", TOKEN, "x".repeat(70_000)).statusCode());
            assertEquals(400, get(admin, "/api/dead-letters/not-an-id", TOKEN).statusCode());

            for (int i = 0; i < 20; i++) System.getLogger("AdminApiTest").log(System.Logger.Level.INFO, "line " + i);
            HttpResponse<String> logs = get(admin, "/api/logs?limit=100", TOKEN);
            assertEquals(200, logs.statusCode());
            assertEquals(5, count(logs.body(), "\"sequence\""), "the buffer holds LOG_BUFFER_LINES lines: " + logs.body());
            assertTrue(logs.body().contains("line 19"));
        }
    }

    @Test
    void withoutATokenTheApiAnswersOnlyOnALoopbackAddress() throws Exception {
        Optional<InetAddress> outside = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .filter(this::up).flatMap(n -> Collections.list(n.getInetAddresses()).stream())
                .filter(a -> !a.isLoopbackAddress() && a instanceof java.net.Inet4Address).findFirst();
        assumeTrue(outside.isPresent(), "this machine has no non-loopback IPv4 address to bind to");
        try (TestServer server = TestServer.start("ADMIN_ADDR", outside.get().getHostAddress() + ":0")) {
            HttpResponse<String> api = send(outside.get().getHostAddress(), server.server().adminPort(), "GET", "/api/status", null, null);
            assertEquals(401, api.statusCode());
            assertTrue(api.body().contains("ADMIN_TOKEN"), api.body());
            assertEquals(200, send(outside.get().getHostAddress(), server.server().adminPort(), "GET", "/healthz", null, null).statusCode());
        }
        try (TestServer server = TestServer.start()) {
            assertEquals(200, get(server.server().adminPort(), "/api/status", null).statusCode(), "on loopback, no token needed");
        }
    }

    @Test
    void deadLettersCanBeListedReadReplayedAndPurgedOverTheApi() throws Exception {
        try (MllpPeer peer = MllpPeer.start((id, arrival) -> id.startsWith("BAD") && arrival == 1 ? "AR" : "AA");
             TestServer server = TestServer.start("CONNECTOR_PEER_TYPE", "mllp", "CONNECTOR_PEER_URL", "mllp://127.0.0.1:" + peer.port(),
                     "RETRY_MAX_ATTEMPTS", "1")) {
            int admin = server.server().adminPort();
            send(server, "BAD-", 2);
            assertTrue(server.server().delivery().stats().get("peer").awaitOutcomes(0, 2, Duration.ofSeconds(20)));
            HttpResponse<String> list = get(admin, "/api/dead-letters", null);
            assertEquals(200, list.statusCode());
            List<String> ids = ids(list.body());
            assertEquals(2, ids.size(), list.body());
            assertTrue(!list.body().contains("PID|"), "metadata only: no message content in a list");
            HttpResponse<String> plain = get(admin, "/api/dead-letters/" + ids.getFirst(), null);
            assertTrue(plain.body().contains("\"msh_10\":\"BAD-1\"") && !plain.body().contains("\"message\""), plain.body());
            HttpResponse<String> content = get(admin, "/api/dead-letters/" + ids.getFirst() + "?content=true", null);
            assertTrue(content.body().contains("\"message\":\"MSH|"), "content only when asked");
            assertEquals(200, send(admin, "POST", "/api/dead-letters/" + ids.getFirst() + "/replay", null, "").statusCode());
            assertEquals(200, send(admin, "POST", "/api/dead-letters/" + ids.get(1) + "/purge", null, "").statusCode());
            assertEquals(404, send(admin, "POST", "/api/dead-letters/" + ids.get(1) + "/purge", null, "").statusCode(), "gone");
            assertEquals(List.of("BAD-1", "BAD-2", "BAD-1"), peer.awaitReceived(3, Duration.ofSeconds(20)), "the replay went to the peer");
            assertTrue(get(admin, "/api/dead-letters", null).body().contains("\"open\":0"));

            server.server().audit().flush();
            String actions = get(admin, "/api/audit?event=operator_action", null).body();
            assertEquals(3, count(actions, "\"event\":\"operator_action\""), actions);
            assertTrue(actions.contains("\"action\":\"dlq show content\"") && actions.contains("\"who\":\"admin client 127.0.0.1"),
                    "reading a message is itself audited, with who: " + actions);
            String dead = get(admin, "/api/audit?event=dead_letter", null).body();
            assertEquals(2, count(dead, "\"connector\":\"peer\""), dead);
        }
    }

    @Test
    void theAuditAnswersWhoSentWhatWhenAndWithWhatResult() throws Exception {
        try (TestServer server = TestServer.start()) {
            int admin = server.server().adminPort();
            byte[] message = ServerProcessTest.adt("LAB-4471");
            try (MllpClient client = server.connect()) {
                assertEquals("AA", Hl7Text.of(client.exchange(message)).ackCode());
                assertEquals("AA", Hl7Text.of(client.exchange(message)).ackCode(), "the duplicate gets its original answer");
                assertEquals("AE", Hl7Text.of(client.exchange("MSH|^~\\&|LAB|LAB|X|Y|20260101||ADT^A01|LAB-4472|P|2.5\rPID|1||1||A^B\rBAD SEGMENT\r"
                        .getBytes(StandardCharsets.US_ASCII))).ackCode());
            }
            server.server().audit().flush();
            HttpResponse<String> found = get(admin, "/api/audit?control_id=LAB-4471", null);
            assertEquals(200, found.statusCode());
            String body = found.body();
            assertEquals(2, count(body, "\"control_id\":\"LAB-4471\""), body);
            assertTrue(body.indexOf("\"event\":\"duplicate\"") < body.indexOf("\"event\":\"accepted\""), "newest first: " + body);
            assertTrue(body.contains("\"ack_code\":\"AA\"") && body.contains("\"message_type\":\"ADT^A01^ADT_A01\"")
                    && body.contains("\"sending_application\":\"TEST\"") && body.contains("\"peer\":\"/127.0.0.1:"), body);
            String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(message));
            assertTrue(body.contains("\"payload_sha256\":\"" + sha + "\"") && body.contains("\"payload_bytes\":" + message.length), body);
            assertTrue(!body.contains("Test^Patient") && !body.contains("PID|"), "never message content");

            String refused = get(admin, "/api/audit?control_id=LAB-4472", null).body();
            assertTrue(refused.contains("\"event\":\"refused\"") && refused.contains("\"ack_code\":\"AE\"")
                    && refused.contains("\"reasons\":[\""), refused);
            assertEquals(1, count(get(admin, "/api/audit?event=configuration_loaded&limit=5", null).body(), "\"event\""));
            assertEquals(400, get(admin, "/api/audit?event=everything", null).statusCode());
            assertEquals(400, get(admin, "/api/audit?since=yesterday", null).statusCode());
            String status = get(admin, "/api/status", null).body();
            assertTrue(status.contains("\"head_seq\":") && status.contains("\"head_sha256\":\"" + server.server().audit().head().hash().hex()),
                    status);
        }
    }

    // --- helpers -------------------------------------------------------------------------

    private boolean up(NetworkInterface n) {
        try {
            return n.isUp();
        } catch (IOException e) {
            return false;
        }
    }

    private static void receive(HttpExchange exchange, LinkedBlockingQueue<ExportMetricsServiceRequest> received) throws IOException {
        try (exchange; InputStream body = exchange.getRequestBody()) {
            received.add(ExportMetricsServiceRequest.parseFrom(body.readAllBytes()));
            exchange.sendResponseHeaders(200, -1);
        }
    }

    private static List<NumberDataPoint> points(ExportMetricsServiceRequest request, String name) {
        List<NumberDataPoint> points = new ArrayList<>();
        request.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(sm -> {
            for (Metric m : sm.getMetricsList()) {
                if (m.getName().equals(name) && m.hasSum()) points.addAll(m.getSum().getDataPointsList());
            }
        }));
        return points;
    }

    private static double sample(String text, String name, String labels) {
        for (String line : text.lines().toList()) {
            if (!line.startsWith(name)) continue;
            String rest = line.substring(name.length());
            if (labels.isEmpty() ? (rest.startsWith(" ") || rest.startsWith("{")) : rest.startsWith("{") && rest.contains(labels)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no sample " + name + "{" + labels + "} in\n" + text);
    }

    private static List<String> ids(String json) {
        List<String> ids = new ArrayList<>();
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"").matcher(json);
        while (m.find()) ids.add(m.group(1));
        return ids;
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }

    private static void send(TestServer server, String prefix, int n) throws IOException {
        try (MllpClient client = server.connect()) {
            for (int i = 1; i <= n; i++) assertEquals("AA", Hl7Text.of(client.exchange(ServerProcessTest.adt(prefix + i))).ackCode());
        }
    }

    private HttpResponse<String> get(int port, String path, String token) throws Exception {
        return send(port, "GET", path, token, null);
    }

    private HttpResponse<String> send(int port, String method, String path, String token, String body) throws Exception {
        return send("127.0.0.1", port, method, path, token, body);
    }

    private HttpResponse<String> send(String host, int port, String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) request.header("Authorization", "Bearer " + token);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> awaitStatus(int port, String path, int status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            HttpResponse<String> response = get(port, path, null);
            if (response.statusCode() == status) return response;
            if (System.nanoTime() > deadline) throw new AssertionError(path + " never answered " + status + ": " + response.body());
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out");
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }

    @SuppressWarnings("unused")
    private static Map<String, String> none() {
        return Map.of();
    }
}
