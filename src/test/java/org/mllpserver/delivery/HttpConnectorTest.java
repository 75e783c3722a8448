package org.mllpserver.delivery;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mllpserver.journal.StoredMessage;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The HTTP connector against a real downstream: the JDK's HttpServer (and HttpsServer with a
 * certificate made at test time) on 127.0.0.1. One test per row of the classification table that
 * a real server can produce.
 */
class HttpConnectorTest {

    /** The timeout under test where a timeout is expected. */
    private static final Duration SHORT = Duration.ofMillis(300);
    /** Where an answer is expected: ample on a loaded machine, never reached when the test passes. */
    private static final Duration AMPLE = Duration.ofSeconds(5);
    /** Longest any handler or test waits on a latch: far above the timeouts under test, so a hang fails instead of blocking. */
    private static final long WAIT_SECONDS = 10;
    private static final String SECRET = "Bearer s3cret-token";
    private static final String ISO_8859_1_MESSAGE = "MSH|^~\\&|LAB|H\u00d4PITAL|||20261122101530||ORU^R01^ORU_R01|C-42|P|2.5|||||||8859/1\r"
            + "PID|1||123^^^H||M\u00fcller^Zo\u00eb\r";

    @TempDir
    static Path keys;
    private static Path keyStore;
    private static char[] keyStorePassword;
    private static Path caPem;

    private HttpServer server;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    /** Released after each test, so a handler that waits on it never outlives the test. */
    private final CountDownLatch release = new CountDownLatch(1);

    private record Received(String method, String path, Map<String, List<String>> headers, byte[] body) {}

    @BeforeAll
    static void makeCertificate() throws Exception {
        keyStore = keys.resolve("downstream.p12");
        // A throwaway key for this run, in the test's temp directory; nothing is committed.
        keyStorePassword = UUID.randomUUID().toString().toCharArray();
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "downstream", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-keystore", keyStore.toString(), "-storetype", "PKCS12",
                "-storepass", new String(keyStorePassword), "-noprompt")
                .redirectErrorStream(true).redirectOutput(keys.resolve("keytool.log").toFile()).start();
        assertTrue(p.waitFor(WAIT_SECONDS * 3, TimeUnit.SECONDS), "keytool finished");
        assertEquals(0, p.exitValue(), () -> "keytool: " + read(keys.resolve("keytool.log")));
        caPem = keys.resolve("ca.pem");
        Files.writeString(caPem, pem(loadKeyStore().getCertificate("downstream")));
    }

    @AfterEach
    void stop() {
        release.countDown();
        if (server != null) server.stop(0);
    }

    @Test
    void rawBodyIsTheStoredBytesWithItsCharsetTheRecordIdAndTheConfiguredHeaders() throws Exception {
        URI url = start(answer(200)).resolve("/hl7/in?token=not-in-reasons");
        StoredMessage message = message(ISO_8859_1_MESSAGE, "ISO-8859-1");
        Map<String, String> headers = Map.of("Authorization", SECRET, "X-Source", "mllp-server", "Idempotency-Key", "configured");
        try (HttpConnector connector = connector(url, ConnectorSettings.HttpFormat.RAW, headers, AMPLE)) {
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(7, message)));
        }
        Received r = only();
        assertEquals("POST", r.method());
        assertEquals("/hl7/in", r.path());
        assertArrayEquals(message.raw(), r.body(), "the stored bytes, not re-encoded");
        assertEquals(List.of("x-application/hl7-v2+er7; charset=ISO-8859-1"), header(r, "Content-Type"));
        assertEquals(List.of(message.id().toString()), header(r, "Idempotency-Key"), "ours replaces a configured one");
        assertEquals(List.of(SECRET), header(r, "Authorization"));
        assertEquals(List.of("mllp-server"), header(r, "X-Source"));
    }

    @Test
    void jsonEnvelopeCarriesTheMetadataAndTheDecodedMessageEscaped() throws Exception {
        URI url = start(answer(204));
        String text = "MSH|^~\\&|LAB \"A\"|H\u00d4PITAL \u2603|||20261122101530||ADT^A01^ADT_A01|C\"1\\2|P|2.5|||||||UNICODE UTF-8\r"
                + "PID|1||123||M\u00fcller^Zo\u00eb \"Z\" \\T\\ O'Brien\u0001\t\u2028 \ud83c\udfe5\r";
        StoredMessage message = new StoredMessage(UUID.randomUUID(), Instant.parse("2026-11-22T10:15:30.123Z"), "/10.0.0.1:5000", "",
                "LAB \"A\"", "H\u00d4PITAL \u2603", "ADT^A01^ADT_A01", "C\"1\\2", "UTF-8", List.of("out"),
                text.getBytes(StandardCharsets.UTF_8));
        try (HttpConnector connector = connector(url, ConnectorSettings.HttpFormat.JSON, Map.of(), AMPLE)) {
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(1, message)));
        }
        Received r = only();
        assertEquals(List.of("application/json"), header(r, "Content-Type"));
        assertEquals(List.of(message.id().toString()), header(r, "Idempotency-Key"));
        Map<String, String> json = FlatJson.parse(new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(message.id().toString(), json.get("id"));
        assertEquals("2026-11-22T10:15:30.123Z", json.get("received_at"));
        assertEquals("ADT^A01^ADT_A01", json.get("msg_type"));
        assertEquals("C\"1\\2", json.get("control_id"));
        assertEquals("LAB \"A\"", json.get("sending_application"));
        assertEquals("H\u00d4PITAL \u2603", json.get("sending_facility"));
        assertEquals("UTF-8", json.get("charset"));
        assertEquals(text, json.get("message"));
        assertEquals(8, json.size(), () -> "fields: " + json.keySet());
    }

    @Test
    void aCharsetThisJvmDoesNotKnowIsUndeliverableInJsonAndNothingIsSent() throws Exception {
        URI url = start(answer(200));
        try (HttpConnector connector = connector(url, ConnectorSettings.HttpFormat.JSON, Map.of(), AMPLE)) {
            Outcome outcome = connector.deliver(new Delivery(1, message("MSH|^~\\&|A\r", "X-NO-SUCH-CHARSET")));
            assertInstanceOf(Outcome.Undeliverable.class, outcome);
            assertTrue(reason(outcome).contains("UnsupportedCharsetException"), reason(outcome));
        }
        assertEquals(List.of(), received);
    }

    @ParameterizedTest
    @ValueSource(ints = {408, 429, 500, 502, 503, 504})
    void statusesTheDownstreamMayRecoverFromAreRetryable(int status) throws Exception {
        Outcome outcome = deliverTo(start(answer(status)), AMPLE);
        assertInstanceOf(Outcome.Retryable.class, outcome);
        assertReasonNamesOnly(outcome, "HTTP " + status);
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 403, 404, 409, 422, 301, 302, 307, 308})
    void refusalsAndRedirectsAreUndeliverableAndRedirectsAreNotFollowed(int status) throws Exception {
        Outcome outcome = deliverTo(start(answer(status)), AMPLE);
        assertInstanceOf(Outcome.Undeliverable.class, outcome);
        assertReasonNamesOnly(outcome, "HTTP " + status);
        assertEquals(List.of("/"), received.stream().map(Received::path).toList(), "one request, the Location never visited");
    }

    @Test
    void aDownstreamThatDoesNotAnswerWithinTheRequestTimeoutIsRetryable() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        URI url = start(exchange -> {
            entered.countDown();
            await(release); // hangs until the test is over
            exchange.close();
        });
        try {
            Outcome outcome = deliverTo(url, SHORT);
            assertTrue(entered.await(WAIT_SECONDS, TimeUnit.SECONDS), "the request reached the handler");
            assertInstanceOf(Outcome.Retryable.class, outcome);
            assertReasonNamesOnly(outcome, "timed out");
            assertTrue(reason(outcome).contains("HttpTimeoutException"), reason(outcome));
        } finally {
            release.countDown();
        }
    }

    @Test
    void aResponseBodyThatStopsHalfwayIsCutAtTheDeadlineAndRetryable() throws Exception {
        URI url = start(exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked: the headers go now, the body never ends
            exchange.getResponseBody().write('{');
            exchange.getResponseBody().flush();
            await(release);
            exchange.close();
        });
        try {
            Outcome outcome = deliverTo(url, SHORT);
            assertInstanceOf(Outcome.Retryable.class, outcome);
            assertReasonNamesOnly(outcome, "timed out");
            assertTrue(reason(outcome).contains("deadline"), reason(outcome));
        } finally {
            release.countDown();
        }
    }

    @Test
    void aRefusedConnectionIsRetryable() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = closed.getLocalPort();
        }
        Outcome outcome = deliverTo(URI.create("http://127.0.0.1:" + port + "/"), AMPLE);
        assertInstanceOf(Outcome.Retryable.class, outcome);
        assertReasonNamesOnly(outcome, "ConnectException");
    }

    /**
     * A listener that never accepts, its accept queue filled: Linux drops further SYNs, so the
     * connector's connect hangs until its connect timeout (shorter here than the request timeout).
     */
    @Test
    void aConnectionNotEstablishedWithinTheConnectTimeoutIsRetryable() throws Exception {
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            boolean queueFull = false;
            for (int i = 0; i < 16 && !queueFull; i++) {
                Socket filler = new Socket();
                fillers.add(filler);
                try {
                    filler.connect(full.getLocalSocketAddress(), 200);
                } catch (SocketTimeoutException e) {
                    queueFull = true;
                }
            }
            assumeTrue(queueFull, "this kernel does not drop connections beyond a full accept queue");
            var settings = new ConnectorSettings.Http(URI.create("http://127.0.0.1:" + full.getLocalPort() + "/"),
                    ConnectorSettings.HttpFormat.RAW, Map.of(), SHORT, AMPLE, Optional.empty());
            Outcome outcome;
            try (HttpConnector connector = new HttpConnector("lab", settings)) {
                outcome = connector.deliver(new Delivery(1, message(ISO_8859_1_MESSAGE, "ISO-8859-1")));
            }
            assertInstanceOf(Outcome.Retryable.class, outcome);
            assertReasonNamesOnly(outcome, "connect timed out after 300ms");
            assertTrue(reason(outcome).contains("HttpConnectTimeoutException"), reason(outcome));
        } finally {
            for (Socket filler : fillers) filler.close();
        }
    }

    @Test
    void httpsWithTheDownstreamsCertificateAsCaFileDelivers() throws Exception {
        URI url = startHttps(answer(200));
        StoredMessage message = message(ISO_8859_1_MESSAGE, "ISO-8859-1");
        var settings = new ConnectorSettings.Http(url, ConnectorSettings.HttpFormat.RAW, Map.of(), AMPLE, AMPLE,
                Optional.of(caPem));
        try (HttpConnector connector = new HttpConnector("lab", settings)) {
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(1, message)));
        }
        assertArrayEquals(message.raw(), only().body());
    }

    /** An untrusted certificate is a configuration an operator fixes; the records wait for it (see HttpConnector.classify). */
    @Test
    void httpsWithAnUntrustedCertificateIsRetryable() throws Exception {
        URI url = startHttps(answer(200));
        Outcome outcome;
        try (HttpConnector connector = connector(url, ConnectorSettings.HttpFormat.RAW, Map.of(), AMPLE)) {
            outcome = connector.deliver(new Delivery(1, message(ISO_8859_1_MESSAGE, "ISO-8859-1")));
        }
        assertInstanceOf(Outcome.Retryable.class, outcome);
        assertReasonNamesOnly(outcome, "SSLHandshakeException");
        assertEquals(List.of(), received);
    }

    @Test
    void aCaFileThatCannotBeUsedStopsTheConstructionNamingTheFileAndWhy() throws IOException {
        Path missing = keys.resolve("missing.pem");
        IOException noFile = assertThrows(IOException.class, () -> new HttpConnector("lab", httpsSettings(missing)));
        assertTrue(noFile.getMessage().contains(missing + " does not exist"), noFile.getMessage());

        Path garbage = Files.writeString(keys.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 !\n-----END CERTIFICATE-----\n");
        GeneralSecurityException notPem = assertThrows(GeneralSecurityException.class, () -> new HttpConnector("lab", httpsSettings(garbage)));
        assertTrue(notPem.getMessage().contains(garbage + " is not a PEM file of X.509 certificates"), notPem.getMessage());

        Path empty = Files.writeString(keys.resolve("empty.pem"), "");
        GeneralSecurityException none = assertThrows(GeneralSecurityException.class, () -> new HttpConnector("lab", httpsSettings(empty)));
        assertTrue(none.getMessage().contains(empty.toString()), none.getMessage());
    }

    @Test
    void aHeaderValueTheJdkRefusesIsNamedButNotShown() {
        var settings = new ConnectorSettings.Http(URI.create("http://127.0.0.1:1/"), ConnectorSettings.HttpFormat.RAW,
                Map.of("Authorization", SECRET + "\r\nX-Injected: 1"), SHORT, SHORT, Optional.empty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HttpConnector("lab", settings));
        assertTrue(e.getMessage().contains("header Authorization"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
        assertNull(e.getCause(), "the JDK's message, which quotes the value, is not chained");
    }

    // --- the downstream

    private URI start(HttpHandler handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        return serve(handler, "http");
    }

    private URI startHttps(HttpHandler handler) throws Exception {
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(loadKeyStore(), keyStorePassword);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(tls));
        server = https;
        return serve(handler, "https");
    }

    private URI serve(HttpHandler handler, String scheme) {
        server.createContext("/", handler);
        server.start();
        return URI.create(scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    /** Records the request, then answers {@code status} with an empty body (and a Location for a redirect). */
    private HttpHandler answer(int status) {
        return exchange -> {
            try (exchange) {
                received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                        Map.copyOf(exchange.getRequestHeaders()), exchange.getRequestBody().readAllBytes()));
                if (status >= 300 && status < 400) exchange.getResponseHeaders().set("Location", "/moved");
                exchange.sendResponseHeaders(status, -1);
            }
        };
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- helpers

    private Outcome deliverTo(URI url, Duration timeout) throws Exception {
        try (HttpConnector connector = connector(url, ConnectorSettings.HttpFormat.RAW, Map.of("Authorization", SECRET), timeout)) {
            return connector.deliver(new Delivery(1, message(ISO_8859_1_MESSAGE, "ISO-8859-1")));
        }
    }

    private static HttpConnector connector(URI url, ConnectorSettings.HttpFormat format, Map<String, String> headers, Duration timeout)
            throws IOException, GeneralSecurityException {
        return new HttpConnector("lab", new ConnectorSettings.Http(url, format, headers, timeout, timeout, Optional.empty()));
    }

    private static ConnectorSettings.Http httpsSettings(Path caFile) {
        return new ConnectorSettings.Http(URI.create("https://127.0.0.1:1/"), ConnectorSettings.HttpFormat.RAW, Map.of(), SHORT, SHORT,
                Optional.of(caFile));
    }

    private static StoredMessage message(String text, String charset) {
        byte[] raw = text.getBytes(StandardCharsets.ISO_8859_1);
        return new StoredMessage(UUID.randomUUID(), Instant.parse("2026-11-22T10:15:30.123Z"), "/10.0.0.1:5000", "", "LAB",
                "H\u00d4PITAL", "ORU^R01^ORU_R01", "C-42", charset, List.of("lab"), raw);
    }

    /** A reason names what happened and where, never the url's path or query, a header value or message content. */
    private static void assertReasonNamesOnly(Outcome outcome, String expected) {
        String reason = reason(outcome);
        assertTrue(reason.contains(expected), reason);
        assertTrue(reason.contains("127.0.0.1"), reason);
        for (String leak : List.of("s3cret", "token", "M\u00fcller", "PID", "C-42", "/hl7")) {
            assertFalse(reason.contains(leak), () -> "reason shows " + leak + ": " + reason);
        }
    }

    private static String reason(Outcome outcome) {
        return switch (outcome) {
            case Outcome.Retryable r -> r.reason();
            case Outcome.Undeliverable u -> u.reason();
            case Outcome.Delivered d -> fail("delivered");
        };
    }

    private Received only() {
        assertEquals(1, received.size(), "requests received");
        return received.getFirst();
    }

    private static List<String> header(Received r, String name) {
        return r.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                .flatMap(e -> e.getValue().stream()).toList();
    }

    private static KeyStore loadKeyStore() throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, keyStorePassword);
        }
        return store;
    }

    private static String pem(Certificate certificate) throws GeneralSecurityException {
        Base64.Encoder base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        return "-----BEGIN CERTIFICATE-----\n" + base64.encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n";
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /**
     * Parses the connector's JSON: one object of string values, no whitespace (it writes none).
     * Strict: a raw control character in a string, an unknown escape or trailing text fails.
     */
    private static final class FlatJson {
        private final String s;
        private int i;

        private FlatJson(String s) {
            this.s = s;
        }

        static Map<String, String> parse(String s) {
            FlatJson p = new FlatJson(s);
            Map<String, String> fields = new LinkedHashMap<>();
            p.expect('{');
            do {
                String name = p.string();
                p.expect(':');
                assertNull(fields.put(name, p.string()), () -> "duplicate " + name);
            } while (p.take(','));
            p.expect('}');
            assertEquals(s.length(), p.i, "nothing after the object");
            return fields;
        }

        private boolean take(char c) {
            boolean next = s.charAt(i) == c;
            if (next) i++;
            return next;
        }

        private void expect(char c) {
            assertEquals(c, s.charAt(i), () -> "at " + i + " of " + s);
            i++;
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            for (char c = s.charAt(i++); c != '"'; c = s.charAt(i++)) { // ends at the closing quote or at the text's end
                assertTrue(c >= 0x20, () -> "raw control character at " + (i - 1));
                out.append(c == '\\' ? escape() : c);
            }
            return out.toString();
        }

        private char escape() {
            char e = s.charAt(i++);
            return switch (e) {
                case '"', '\\', '/' -> e;
                case 'b' -> '\b';
                case 'f' -> '\f';
                case 'n' -> '\n';
                case 'r' -> '\r';
                case 't' -> '\t';
                case 'u' -> {
                    i += 4;
                    yield (char) Integer.parseInt(s.substring(i - 4, i), 16);
                }
                default -> fail("unknown escape \\" + e);
            };
        }
    }
}
