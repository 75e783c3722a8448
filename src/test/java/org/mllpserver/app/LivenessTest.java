package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** /healthz of a whole running server, over real HTTP. */
class LivenessTest {

    @Test
    void aServingServerIsLiveOnItsAdminListener() throws Exception {
        try (TestServer server = TestServer.start("CONNECTOR_ARCHIVE_TYPE", "file", "CONNECTOR_ARCHIVE_DIRECTORY",
                java.nio.file.Files.createTempDirectory("mllp-live-").toString());
             HttpClient http = HttpClient.newHttpClient()) {
            try (var client = server.connect()) {
                assertEquals("AA", Hl7Text.of(client.exchange(ServerProcessTest.adt("LIVE-1"))).ackCode());
            }
            HttpResponse<String> healthz = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.server().adminPort() + "/healthz")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, healthz.statusCode(), healthz.body());
            assertEquals(List.of(), server.server().livenessProblems());
            assertEquals(List.of(), server.server().fatalProblems());
        }
    }
}
