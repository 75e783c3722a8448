package org.mllpserver.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The admin HTTP listener ({@code ADMIN_ADDR}): the JDK's own HTTP server, one virtual thread
 * per request. Serves {@code GET /healthz}: 200 while the process serves, 503 with the reasons
 * when it does not (a listener not accepting, the journal flusher stuck), so a supervisor sees
 * what a sender would.
 *
 * <p>Requests are refused before any handler runs when they are not {@code GET}/{@code HEAD}
 * (405) or name no endpoint (404); answers are small JSON documents.
 */
public final class AdminServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());
    /** Pending admin connections the kernel may queue. */
    private static final int BACKLOG = 64;
    /** Admin connections at once: probes, a scraper and an operator need a handful. */
    private static final int MAX_CONNECTIONS = 64;
    /** A request must arrive, and its answer go out, within this. */
    private static final int REQUEST_SECONDS = 10;

    private final HttpServer server;
    private final ExecutorService executor;

    private AdminServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds {@code address} and serves; {@code liveness} gives what is wrong now (empty: alive).
     * Throws when the address cannot be bound.
     */
    public static AdminServer start(InetSocketAddress address, Supplier<List<String>> liveness) throws IOException {
        boundTheJdkServer();
        HttpServer server = HttpServer.create(address, BACKLOG);
        ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("admin-", 0).factory());
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, liveness));
        server.start();
        LOG.log(INFO, "admin listener on http://{0}:{1} (/healthz)", server.getAddress().getHostString(),
                String.valueOf(server.getAddress().getPort()));
        return new AdminServer(server, executor);
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

    private static void handle(HttpExchange exchange, Supplier<List<String>> liveness) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "{\"error\":\"method not allowed\"}");
                return;
            }
            if (!exchange.getRequestURI().getPath().equals("/healthz")) {
                send(exchange, 404, "{\"error\":\"no such endpoint\"}");
                return;
            }
            List<String> problems = liveness.get();
            if (problems.isEmpty()) {
                send(exchange, 200, "{\"status\":\"ok\"}");
            } else {
                send(exchange, 503, "{\"status\":\"failing\",\"problems\":[" + String.join(",", problems.stream().map(Json::string).toList())
                        + "]}");
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(WARNING, "admin: a request failed: {0}", e.toString());
        }
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = (json + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
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
}
