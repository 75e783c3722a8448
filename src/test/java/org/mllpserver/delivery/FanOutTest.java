package org.mllpserver.delivery;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.testing.MllpPeer;
import org.mllpserver.testing.TestServer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One accepted message, four real downstreams: an HTTP server, PostgreSQL, a directory and an
 * MLLP peer each get it, with the record's id; a filter keeps one connector out.
 */
public class FanOutTest {

    @TempDir
    Path dir;

    @Test
    void everyAddressedConnectorGetsTheRecordWithItsId() throws Exception {
        String table = "hl7_fanout_" + Long.toHexString(System.nanoTime());
        List<byte[]> httpBodies = new CopyOnWriteArrayList<>();
        Map<String, String> idempotencyKeys = new ConcurrentHashMap<>();
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/hl7", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            httpBodies.add(body);
            idempotencyKeys.put(exchange.getRequestHeaders().getFirst("Idempotency-Key"), "seen");
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        http.start();
        Path files = dir.resolve("out");
        try (MllpPeer peer = MllpPeer.start((id, n) -> "AA");
             TestServer server = TestServer.start(
                     "CONNECTOR_WEB_TYPE", "http", "CONNECTOR_WEB_URL", "http://127.0.0.1:" + http.getAddress().getPort() + "/hl7",
                     "CONNECTOR_WEB_HEADERS", "X-Source: mllp-server; Authorization: Bearer ${FANOUT_TOKEN}",
                     "FANOUT_TOKEN", "secret-token",
                     "CONNECTOR_DB_TYPE", "postgres", "CONNECTOR_DB_URL", "postgres://postgres@127.0.0.1:5432/test",
                     "CONNECTOR_DB_TABLE", table,
                     "CONNECTOR_DISK_TYPE", "file", "CONNECTOR_DISK_DIRECTORY", files.toString(),
                     "CONNECTOR_PEER_TYPE", "mllp", "CONNECTOR_PEER_URL", "mllp://127.0.0.1:" + peer.port(),
                     "CONNECTOR_PEER_FILTER", "msh.msg_type == 'ORU'");
             Connection db = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test", "postgres", "")) {
            DeliveryTest.sendAll(server, List.of("FAN-1", "FAN-2"));
            for (String connector : List.of("web", "db", "disk")) awaitDelivered(server, connector, 2);
            server.stop();

            List<StoredMessage> stored = new ArrayList<>();
            JournalReader.read(server.journalDir(), 0, e -> {
                if (e.type() == RecordType.MESSAGE) stored.add(StoredMessage.decode(e.body()));
            });
            assertEquals(List.of("db", "disk", "web"), stored.getFirst().connectors(), "the filter kept the mllp peer out of an ADT");
            assertEquals(2, httpBodies.size());
            assertArrayEquals(stored.getFirst().raw(), httpBodies.getFirst());
            assertTrue(idempotencyKeys.containsKey(stored.getFirst().id().toString()));
            for (StoredMessage m : stored) assertArrayEquals(m.raw(), Files.readAllBytes(files.resolve(m.id() + ".hl7")));
            try (Statement s = db.createStatement(); ResultSet rows = s.executeQuery("SELECT id, control_id, patient_id FROM " + table + " ORDER BY control_id")) {
                List<String> found = new ArrayList<>();
                while (rows.next()) found.add(rows.getString(1) + " " + rows.getString(2) + " " + rows.getString(3));
                assertEquals(List.of(stored.get(0).id() + " FAN-1 FAN-1", stored.get(1).id() + " FAN-2 FAN-2"), found);
            } finally {
                try (Statement s = db.createStatement()) {
                    s.execute("DROP TABLE IF EXISTS " + table);
                }
            }
            assertEquals(List.of(), peer.received());
        } finally {
            http.stop(0);
        }
    }

    public static void awaitDelivered(TestServer server, String connector, long n) throws InterruptedException {
        DispatcherStats stats = server.server().delivery().stats().get(connector);
        assertTrue(stats.awaitOutcomes(n, 0, Duration.ofSeconds(30)), connector + ": " + stats.delivered() + " delivered; " + stats.lastError());
    }
}
