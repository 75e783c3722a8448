package org.mllpserver.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.delivery.DeadLetterQueue;
import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The admin HTTP listener ({@code ADMIN_ADDR}): the JDK's own HTTP server, one virtual thread
 * per request, no web framework.
 *
 * <table>
 *   <tr><th>endpoint</th><th>what</th></tr>
 *   <tr><td>GET /healthz</td><td>200 while the process serves; 503 with the reasons when it does not</td></tr>
 *   <tr><td>GET /readyz</td><td>200 once the journal is recovered, the rules compiled and the listeners accept; 503 with the reason while starting and from the first moment of a stop</td></tr>
 *   <tr><td>GET /metrics</td><td>Prometheus text format</td></tr>
 *   <tr><td>GET /api/status</td><td>JSON: version, uptime, listeners, journal, connectors, TLS, audit head</td></tr>
 *   <tr><td>GET /api/logs?level=&amp;limit=</td><td>the recent log lines</td></tr>
 *   <tr><td>GET /api/audit?since=&amp;until=&amp;control_id=&amp;event=&amp;limit=</td><td>audit records</td></tr>
 *   <tr><td>GET /api/dead-letters?connector=&amp;limit=</td><td>open dead letters (metadata)</td></tr>
 *   <tr><td>GET /api/dead-letters/{id}[?content=true]</td><td>one; its message only when asked, and that read is audited</td></tr>
 *   <tr><td>POST /api/dead-letters/{id}/replay[?to=CONNECTOR|to-addressed]</td><td>as {@code dlq replay}</td></tr>
 *   <tr><td>POST /api/dead-letters/{id}/purge</td><td>as {@code dlq purge}</td></tr>
 *   <tr><td>POST /api/dead-letters/replay-all[?to=...]</td><td>as {@code dlq replay --all}</td></tr>
 * </table>
 *
 * <p><b>Access.</b> {@code /healthz}, {@code /readyz} and {@code /metrics} are open (probes and
 * scrapers). Everything under {@code /api} needs {@code Authorization: Bearer <ADMIN_TOKEN>}
 * (compared in constant time) when ADMIN_TOKEN is set; with no token, {@code /api} answers only
 * when the listener is bound to a loopback address, and otherwise 401 naming ADMIN_TOKEN.
 *
 * <p><b>Bad requests</b> are refused before any handler runs, with a JSON body: 400 (a bad
 * parameter), 401, 404, 405 (with {@code Allow}), 413 (a body over {@link #MAX_BODY_BYTES}).
 * Nothing in a response or a log line is message content, except a dead letter's message asked
 * for with {@code content=true} (audited).
 */
public final class AdminServer implements AutoCloseable {

    /** What the admin listener serves, from the running server's parts. */
    public interface Backend {
        /** What is wrong now; empty while the server serves. */
        List<String> livenessProblems();

        /** Why the server is not ready to take traffic, or empty when it is. */
        Optional<String> notReady();

        /** The metrics in Prometheus text format. */
        String metrics();

        /** The status document. */
        Map<String, Object> status();

        LogBuffer logs();

        /** Audit records matching the query, as JSON-ready maps (empty when there is no audit trail). */
        List<Map<String, Object>> audit(AuditQuery query) throws IOException;

        DeadLetterQueue deadLetters();

        /** An operator did something through this listener: reported like the control socket's actions. */
        void operatorAction(String who, String action, Optional<UUID> deadLetter, Optional<UUID> record, String detail);
    }

    /** An audit search: newest first, at most {@code limit}. */
    public record AuditQuery(Optional<Instant> since, Optional<Instant> until, Optional<String> controlId, Optional<String> event,
                             int limit) {}

    private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());
    /** Pending admin connections the kernel may queue. */
    private static final int BACKLOG = 64;
    /** Admin connections at once: probes, a scraper and an operator need a handful. */
    private static final int MAX_CONNECTIONS = 64;
    /** A request must arrive, and its answer go out, within this. */
    private static final int REQUEST_SECONDS = 10;
    /** No endpoint takes a body; a request bigger than this is refused (413) before anything reads it whole. */
    static final int MAX_BODY_BYTES = 64 * 1024;
    /** Lists are cut at this many entries unless a smaller limit is asked for. */
    static final int MAX_LIMIT = 10_000;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Backend backend;
    private final Optional<byte[]> token;
    private final boolean loopback;
    private final Clock clock;

    private AdminServer(HttpServer server, ExecutorService executor, Backend backend, Optional<String> token, boolean loopback,
                        Clock clock) {
        this.server = server;
        this.executor = executor;
        this.backend = backend;
        this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
        this.loopback = loopback;
        this.clock = clock;
    }

    /** Binds {@code address} and serves; throws when the address cannot be bound. */
    public static AdminServer start(InetSocketAddress address, Optional<String> token, Backend backend, Clock clock) throws IOException {
        boundTheJdkServer();
        HttpServer server = HttpServer.create(address, BACKLOG);
        ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("admin-", 0).factory());
        server.setExecutor(executor);
        boolean loopback = server.getAddress().getAddress().isLoopbackAddress();
        AdminServer admin = new AdminServer(server, executor, backend, token, loopback, clock);
        server.createContext("/", admin::handle);
        server.start();
        LOG.log(INFO, "admin listener on http://{0}:{1} (/healthz /readyz /metrics; /api {2})", server.getAddress().getHostString(),
                String.valueOf(server.getAddress().getPort()),
                token.isPresent() ? "with ADMIN_TOKEN" : loopback ? "open on loopback" : "closed: set ADMIN_TOKEN");
        return admin;
    }

    /** A liveness-only listener (for tests of the HTTP layer). */
    public static AdminServer start(InetSocketAddress address, java.util.function.Supplier<List<String>> liveness) throws IOException {
        return start(address, Optional.empty(), new LivenessOnly(liveness), Clock.systemUTC());
    }

    /**
     * The JDK's HTTP server has no limit on connections and no time limit on a request unless
     * told (system properties, read once): a client that connects and sends nothing would hold a
     * thread and a file descriptor for good. Set here unless the operator set them.
     */
    private static void boundTheJdkServer() {
        System.getProperties().putIfAbsent("jdk.httpserver.maxConnections", String.valueOf(MAX_CONNECTIONS));
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", String.valueOf(REQUEST_SECONDS));
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", String.valueOf(REQUEST_SECONDS));
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqHeaders", "64");
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqHeaderSize", String.valueOf(64 * 1024));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** A failed request: its status and a message for the client. */
    private static final class Refusal extends Exception {
        final int status;
        /** For 405: the methods the endpoint takes. */
        final String allow;

        Refusal(int status, String message) {
            this(status, message, "");
        }

        Refusal(int status, String message, String allow) {
            super(message, null, false, false);
            this.status = status;
            this.allow = allow;
        }
    }

    /** An answer: status, content type, body. */
    private record Answer(int status, String contentType, String body) {
        static Answer json(int status, Object value) {
            return new Answer(status, "application/json", Json.write(value) + "\n");
        }
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            Answer answer;
            try {
                refuseABody(exchange);
                answer = route(exchange);
            } catch (Refusal r) {
                if (r.status == 405) exchange.getResponseHeaders().set("Allow", r.allow);
                if (r.status == 401) exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                answer = Answer.json(r.status, Map.of("error", r.getMessage(), "status", r.status));
            } catch (IOException | RuntimeException e) {
                LOG.log(WARNING, "admin: {0} {1} failed: {2}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), e.toString());
                answer = Answer.json(500, Map.of("error", "internal error: " + e.getClass().getSimpleName(), "status", 500));
            }
            send(exchange, answer);
        } catch (IOException | RuntimeException e) {
            LOG.log(WARNING, "admin: a request failed: {0}", e.toString());
        }
    }

    private Answer route(HttpExchange exchange) throws Refusal, IOException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        switch (path) {
            case "/healthz" -> {
                allow(method, "GET", "HEAD");
                List<String> problems = backend.livenessProblems();
                return problems.isEmpty() ? Answer.json(200, Map.of("status", "ok"))
                        : Answer.json(503, ordered("status", "failing", "problems", problems));
            }
            case "/readyz" -> {
                allow(method, "GET", "HEAD");
                Optional<String> why = backend.notReady();
                return why.isEmpty() ? Answer.json(200, Map.of("status", "ready"))
                        : Answer.json(503, ordered("status", "not ready", "reason", why.get()));
            }
            case "/metrics" -> {
                allow(method, "GET", "HEAD");
                return new Answer(200, "text/plain; version=0.0.4; charset=utf-8", backend.metrics());
            }
            default -> {
                if (!path.startsWith("/api/")) throw new Refusal(404, "no such endpoint: " + path);
                authorize(exchange);
                return api(exchange, method, path.substring("/api".length()), query);
            }
        }
    }

    private Answer api(HttpExchange exchange, String method, String path, Map<String, String> query) throws Refusal, IOException {
        if (path.equals("/status")) {
            allow(method, "GET", "HEAD");
            return Answer.json(200, backend.status());
        }
        if (path.equals("/logs")) {
            allow(method, "GET", "HEAD");
            return logs(query);
        }
        if (path.equals("/audit")) {
            allow(method, "GET", "HEAD");
            AuditQuery audit = new AuditQuery(time(query, "since"), time(query, "until"),
                    Optional.ofNullable(query.get("control_id")), Optional.ofNullable(query.get("event")), limit(query, 100));
            try {
                return Answer.json(200, backend.audit(audit));
            } catch (IllegalArgumentException e) { // an event that is not one
                throw new Refusal(400, e.getMessage());
            }
        }
        if (path.equals("/dead-letters")) {
            allow(method, "GET", "HEAD");
            return deadLetters(query);
        }
        if (path.equals("/dead-letters/replay-all")) {
            allow(method, "POST");
            return replayAll(exchange, query);
        }
        if (path.startsWith("/dead-letters/")) return deadLetter(exchange, method, path.substring("/dead-letters/".length()), query);
        throw new Refusal(404, "no such endpoint: /api" + path);
    }

    private Answer logs(Map<String, String> query) throws Refusal {
        Level level;
        try {
            level = LogBuffer.levelOf(query.getOrDefault("level", "TRACE"));
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, "level: " + e.getMessage());
        }
        List<Map<String, Object>> lines = backend.logs().recent(level, limit(query, 200)).stream()
                .map(l -> ordered("sequence", l.sequence(), "time", Instant.ofEpochMilli(l.epochMillis()), "level", l.level(), "line", l.text()))
                .toList();
        return Answer.json(200, lines);
    }

    private Answer deadLetters(Map<String, String> query) throws Refusal {
        Optional<String> connector = Optional.ofNullable(query.get("connector"));
        int limit = limit(query, 1000);
        List<Map<String, Object>> list = backend.deadLetters().list().stream()
                .filter(e -> connector.isEmpty() || e.connector().equals(connector.get()))
                .limit(limit).map(AdminServer::metadata).toList();
        return Answer.json(200, ordered("open", backend.deadLetters().size(), "dead_letters", list));
    }

    private Answer deadLetter(HttpExchange exchange, String method, String rest, Map<String, String> query) throws Refusal, IOException {
        String[] parts = rest.split("/", -1);
        DeadLetterIndex.Entry entry = entry(parts[0]);
        if (parts.length == 1) {
            allow(method, "GET", "HEAD");
            Map<String, Object> body = metadata(entry);
            if (Boolean.parseBoolean(query.getOrDefault("content", "false"))) {
                DeadLetter dead = backend.deadLetters().read(entry);
                StoredMessage m = dead.message();
                body.put("message", new String(m.raw(), java.nio.charset.Charset.forName(m.charset(), StandardCharsets.ISO_8859_1)));
                backend.operatorAction(who(exchange), "dlq show content", Optional.of(entry.id()), Optional.of(entry.recordId()), "admin API");
            }
            return Answer.json(200, body);
        }
        if (parts.length == 2 && parts[1].equals("replay")) {
            allow(method, "POST");
            Optional<String> to = Optional.ofNullable(query.get("to")).filter(t -> !t.equals("to-addressed"));
            boolean toAddressed = "to-addressed".equals(query.get("to")) || query.containsKey("to-addressed");
            List<String> went = operate(() -> backend.deadLetters().replay(entry.id(), to, toAddressed));
            backend.operatorAction(who(exchange), "dlq replay", Optional.of(entry.id()), Optional.of(entry.recordId()),
                    "to " + String.join(", ", went) + " (admin API)");
            return Answer.json(200, ordered("replayed", entry.id(), "to", went));
        }
        if (parts.length == 2 && parts[1].equals("purge")) {
            allow(method, "POST");
            operate(() -> {
                backend.deadLetters().purge(entry.id());
                return List.of();
            });
            backend.operatorAction(who(exchange), "dlq purge", Optional.of(entry.id()), Optional.of(entry.recordId()), "admin API");
            return Answer.json(200, ordered("purged", entry.id()));
        }
        throw new Refusal(404, "no such endpoint: /api/dead-letters/" + rest);
    }

    private Answer replayAll(HttpExchange exchange, Map<String, String> query) throws Refusal, IOException {
        Optional<String> to = Optional.ofNullable(query.get("to")).filter(t -> !t.equals("to-addressed"));
        boolean toAddressed = "to-addressed".equals(query.get("to")) || query.containsKey("to-addressed");
        String who = who(exchange);
        int[] done = {0};
        operate(() -> {
            done[0] = backend.deadLetters().replayAll(to, toAddressed, (e, went) -> backend.operatorAction(who, "dlq replay",
                    Optional.of(e.id()), Optional.of(e.recordId()), "to " + String.join(", ", went) + " (admin API, replay-all)"));
            return List.of();
        });
        return Answer.json(200, ordered("replayed", done[0]));
    }

    @FunctionalInterface
    private interface Operation {
        List<String> run() throws IOException;
    }

    /** A dead letter operation: a bad target is the client's mistake (400), a journal that cannot be written is ours (500). */
    private static List<String> operate(Operation operation) throws Refusal, IOException {
        try {
            return operation.run();
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, e.getMessage());
        }
    }

    private DeadLetterIndex.Entry entry(String id) throws Refusal {
        UUID uuid;
        try {
            uuid = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, "'" + id + "' is not a dead letter id");
        }
        return backend.deadLetters().get(uuid).orElseThrow(() -> new Refusal(404, "no open dead letter " + id));
    }

    private static Map<String, Object> metadata(DeadLetterIndex.Entry e) {
        return ordered("id", e.id(), "since", e.at(), "connector", e.connector(), "attempts", e.attempts(), "last_error", e.lastError(),
                "record_id", e.recordId(), "record_position", e.recordPosition(), "msh_9", e.messageType(), "msh_10", e.controlId());
    }

    private static String who(HttpExchange exchange) {
        return "admin client " + exchange.getRemoteAddress().getAddress().getHostAddress() + ":" + exchange.getRemoteAddress().getPort();
    }

    /** /api: the bearer token when one is set; otherwise only on a loopback address. */
    private void authorize(HttpExchange exchange) throws Refusal {
        if (token.isEmpty()) {
            if (loopback) return;
            throw new Refusal(401, "the admin API is closed on a non-loopback address: set ADMIN_TOKEN and send Authorization: Bearer <token>");
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        byte[] given = header != null && header.startsWith("Bearer ") ? header.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, token.get())) throw new Refusal(401, "missing or wrong bearer token (ADMIN_TOKEN)");
    }

    private static void allow(String method, String... allowed) throws Refusal {
        for (String m : allowed) if (m.equals(method)) return;
        throw new Refusal(405, "method not allowed: use " + String.join(", ", allowed), String.join(", ", allowed));
    }

    /** No endpoint takes a body: a declared or sent body over the cap is refused before it is read. */
    private static void refuseABody(HttpExchange exchange) throws Refusal, IOException {
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                throw new Refusal(400, "Content-Length is not a number");
            }
            if (declared > MAX_BODY_BYTES) throw new Refusal(413, "request body over " + MAX_BODY_BYTES + " bytes");
        }
        try (InputStream in = exchange.getRequestBody()) {
            if (in.readNBytes(MAX_BODY_BYTES + 1).length > MAX_BODY_BYTES) throw new Refusal(413, "request body over " + MAX_BODY_BYTES + " bytes");
        }
    }

    private static Map<String, String> query(String raw) throws Refusal {
        Map<String, String> query = new HashMap<>();
        if (raw == null || raw.isEmpty()) return query;
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            try {
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                query.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new Refusal(400, "a query parameter is not URL-encoded properly");
            }
        }
        return query;
    }

    private static int limit(Map<String, String> query, int byDefault) throws Refusal {
        String raw = query.get("limit");
        if (raw == null) return byDefault;
        try {
            int limit = Integer.parseInt(raw.strip());
            if (limit < 1 || limit > MAX_LIMIT) throw new Refusal(400, "limit must be 1 to " + MAX_LIMIT);
            return limit;
        } catch (NumberFormatException e) {
            throw new Refusal(400, "limit is not a number");
        }
    }

    /** A time: an instant ({@code 2026-11-22T10:00:00Z}) or an age before now ({@code 90s}, {@code 15m}, {@code 1h}, {@code 2d}). */
    private Optional<Instant> time(Map<String, String> query, String name) throws Refusal {
        String raw = query.get(name);
        if (raw == null || raw.isBlank()) return Optional.empty();
        try {
            return Optional.of(Instant.parse(raw.strip()));
        } catch (DateTimeParseException notAnInstant) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,9})(s|m|h|d)").matcher(raw.strip());
            if (!m.matches()) throw new Refusal(400, name + " must be an instant (2026-11-22T10:00:00Z) or an age (15m, 1h, 2d)");
            long n = Long.parseLong(m.group(1));
            Duration age = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return Optional.of(clock.instant().minus(age));
        }
    }

    /** A map in the order given (key, value, key, value, ...). */
    static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return map;
    }

    private static void send(HttpExchange exchange, Answer answer) throws IOException {
        byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", answer.contentType());
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(answer.status(), head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Stops at once: probes and scrapers try again. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /** Liveness and nothing else (tests of the HTTP layer). */
    private record LivenessOnly(java.util.function.Supplier<List<String>> liveness) implements Backend {
        @Override
        public List<String> livenessProblems() {
            return liveness.get();
        }

        @Override
        public Optional<String> notReady() {
            return Optional.empty();
        }

        @Override
        public String metrics() {
            return "";
        }

        @Override
        public Map<String, Object> status() {
            return Map.of();
        }

        @Override
        public LogBuffer logs() {
            return new LogBuffer(1, new java.util.logging.SimpleFormatter());
        }

        @Override
        public List<Map<String, Object>> audit(AuditQuery query) {
            return List.of();
        }

        @Override
        public DeadLetterQueue deadLetters() {
            throw new UnsupportedOperationException("no dead letters here");
        }

        @Override
        public void operatorAction(String who, String action, Optional<UUID> deadLetter, Optional<UUID> record, String detail) {
        }
    }
}
