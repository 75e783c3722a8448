package org.mllpserver.admin;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin listener over real HTTP on loopback. */
class AdminServerTest {

    @Test
    void healthzIs200WhileServingAnd503WithTheReasonsOtherwise() throws Exception {
        AtomicReference<List<String>> problems = new AtomicReference<>(List.of());
        try (AdminServer admin = AdminServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), problems::get);
             HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> ok = get(http, admin, "/healthz", "GET");
            assertEquals(200, ok.statusCode());
            assertEquals("{\"status\":\"ok\"}\n", ok.body());
            assertEquals("application/json", ok.headers().firstValue("Content-Type").orElse(""));

            problems.set(List.of("plain listener: its accept thread has ended", "the journal flusher has been \"stuck\""));
            HttpResponse<String> failing = get(http, admin, "/healthz", "GET");
            assertEquals(503, failing.statusCode());
            assertEquals("{\"status\":\"failing\",\"problems\":[\"plain listener: its accept thread has ended\","
                    + "\"the journal flusher has been \\\"stuck\\\"\"]}\n", failing.body());

            assertEquals(404, get(http, admin, "/nothing", "GET").statusCode());
            HttpResponse<String> post = get(http, admin, "/healthz", "POST");
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
            HttpResponse<String> head = get(http, admin, "/healthz", "HEAD");
            assertEquals(503, head.statusCode());
            assertTrue(head.body().isEmpty());
        }
    }

    private static HttpResponse<String> get(HttpClient http, AdminServer admin, String path, String method) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
