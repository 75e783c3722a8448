package org.mllpserver.app;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.config.ConfigException;
import org.mllpserver.config.ConfigLoader;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.RawTls;
import org.mllpserver.testing.TestPki;
import org.mllpserver.testing.TestServer;
import org.mllpserver.tls.TlsClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS and mutual TLS on the real listener: handshakes, identities in records, refusals, rotation. */
class TlsEndToEndTest {

    @TempDir
    static Path dir;
    static TestPki pki;

    @BeforeAll
    static void makeCertificates() throws Exception {
        pki = TestPki.create(java.nio.file.Files.createDirectories(dir.resolve("pki")));
    }

    private static String[] mtls(String... more) {
        List<String> env = new ArrayList<>(List.of("TLS_CERT_FILE", pki.serverChain().toString(), "TLS_KEY_FILE", pki.serverKey().toString(),
                "TLS_CLIENT_CA", pki.caCert().toString(), "TLS_HANDSHAKE_TIMEOUT", "500ms"));
        env.addAll(List.of(more));
        return env.toArray(String[]::new);
    }

    private static SSLContext client(boolean withCertificate, boolean otherCa) throws Exception {
        return TlsClient.context(Optional.of(pki.caCert()),
                withCertificate ? Optional.of(otherCa ? pki.otherClientCert() : pki.clientCert()) : Optional.empty(),
                withCertificate ? Optional.of(otherCa ? pki.otherClientKey() : pki.clientKey()) : Optional.empty());
    }

    private static MllpClient connect(SSLContext context, int port) throws IOException {
        return MllpClient.over(TlsClient.connect(context, "localhost", port, Duration.ofSeconds(5), Duration.ofSeconds(5)),
                Duration.ofSeconds(10), 1 << 20);
    }

    private static byte[] adt(String controlId) {
        return ("MSH|^~\\&|LAB|HOSP|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|P|2.5\rPID|1||42\r")
                .getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aClientWithACertificateFromTheCaIsAcceptedAndItsIdentityIsStored() throws Exception {
        try (TestServer server = TestServer.start(mtls()); MllpClient client = connect(client(true, false), server.server().tlsPort())) {
            assertEquals("AA", Hl7Text.of(client.exchange(adt("T-1"))).ackCode());
            server.stop();
            List<String> identities = new ArrayList<>();
            JournalReader.read(server.journalDir(), 0, e -> {
                if (e.type() == RecordType.MESSAGE) identities.add(StoredMessage.decode(e.body()).tlsIdentity());
            });
            assertEquals(1, identities.size());
            assertTrue(identities.getFirst().contains("CN=lab-analyser") && identities.getFirst().contains("DNS:lab1.test"),
                    identities.getFirst());
        }
    }

    @Test
    void tlsOneTwoAndOneThreeAreAcceptedAndOneOneIsNot() throws Exception {
        try (TestServer server = TestServer.start(mtls())) {
            for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
                try (SSLSocket socket = (SSLSocket) client(true, false).getSocketFactory().createSocket("127.0.0.1", server.server().tlsPort())) {
                    socket.setEnabledProtocols(new String[]{protocol});
                    socket.startHandshake();
                    assertEquals(protocol, socket.getSession().getProtocol());
                }
            }
            // No JDK client sends a TLS 1.1 ClientHello any more: a hand-made one, and the server's own answer.
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.server().tlsPort())) {
                socket.setSoTimeout(5000);
                socket.getOutputStream().write(RawTls.clientHello(RawTls.TLS_1_1));
                byte[] answer = socket.getInputStream().readNBytes(RawTls.ALERT_RECORD_BYTES);
                assertEquals(RawTls.fatalAlert(RawTls.PROTOCOL_VERSION), RawTls.alertOf(answer), RawTls.hex(answer));
            }
        }
    }

    @Test
    void withoutACertificateOrWithOneFromAnotherCaTheHandshakeFailsAndOthersGoOn() throws Exception {
        try (TestServer server = TestServer.start(mtls()); MllpClient good = connect(client(true, false), server.server().tlsPort())) {
            int port = server.server().tlsPort();
            for (SSLContext bad : List.of(client(false, false), client(true, true))) {
                assertThrows(IOException.class, () -> {
                    try (MllpClient c = connect(bad, port)) {
                        c.exchange(adt("NOPE")); // TLS 1.3 reports a refused client certificate on the first read
                    }
                });
            }
            assertEquals("AA", Hl7Text.of(good.exchange(adt("STILL-1"))).ackCode(), "an open connection is not disturbed");
            assertTrue(server.server().tlsListenerStats().handshakeFailures() >= 2);
        }
    }

    @Test
    void plaintextAndGarbageOnTheTlsPortAreClosedAndAStalledHandshakeTimesOut() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("TlsEndToEndTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        byte[] garbage = new byte[4096];
        new Random(seed).nextBytes(garbage);
        try (TestServer server = TestServer.start(mtls()); MllpClient good = connect(client(true, false), server.server().tlsPort())) {
            int port = server.server().tlsPort();
            for (byte[] bytes : List.of(org.mllpserver.mllp.FrameReader.frame(adt("PLAIN")), garbage)) {
                try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    raw.setSoTimeout(5000);
                    raw.getOutputStream().write(bytes);
                    assertClosedWithoutAnAck(raw.getInputStream());
                }
            }
            try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), port)) {
                silent.setSoTimeout(5000); // the server's handshake timeout is 500 ms
                assertEquals(-1, silent.getInputStream().read(), "closed by TLS_HANDSHAKE_TIMEOUT");
            }
            assertEquals("AA", Hl7Text.of(good.exchange(adt("STILL-2"))).ackCode());
        }
    }

    @Test
    void aTricklingHandshakeOrAnIdleTricklingConnectionIsClosedAtItsDeadline() throws Exception {
        try (TestServer server = TestServer.start(mtls("IDLE_TIMEOUT", "1s", "FRAME_TIMEOUT", "1s"))) {
            int port = server.server().tlsPort();
            // A handshake record that declares 16 KiB, sent a byte every 200 ms: each byte would restart a socket timeout.
            try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
                assertTrue(closedWhileTrickling(raw, new byte[]{0x16, 0x03, 0x01, 0x40, 0x00}), "handshake deadline (500 ms) not enforced");
            }
            // After a good handshake, a data record trickled the same way must still meet IDLE_TIMEOUT.
            Socket plain = new Socket(InetAddress.getLoopbackAddress(), port);
            try (SSLSocket tls = (SSLSocket) client(true, false).getSocketFactory().createSocket(plain, "localhost", port, true)) {
                tls.startHandshake();
                assertTrue(closedWhileTrickling(plain, new byte[]{0x17, 0x03, 0x03, 0x40, 0x00}), "IDLE_TIMEOUT (1 s) not enforced on TLS");
            }
        }
    }

    /** Writes the header, then a byte every 200 ms for up to 5 s; true when the server closed the connection meanwhile. */
    private static boolean closedWhileTrickling(Socket socket, byte[] header) throws InterruptedException {
        try {
            var out = socket.getOutputStream();
            out.write(header);
            for (int i = 0; i < 25; i++) {
                Thread.sleep(200); // the pace of the slow client under test, not synchronisation
                out.write(0);
                out.flush();
            }
            return false;
        } catch (IOException closedByServer) {
            return true;
        }
    }

    @Test
    void aDrainDoesNotWaitForAClientStuckInItsHandshake() throws Exception {
        TestServer server = TestServer.start(mtls("DRAIN_TIMEOUT", "60s", "TLS_HANDSHAKE_TIMEOUT", "60s"));
        try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), server.server().tlsPort())) {
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), server::stop,
                    "the drain closed the handshaking connection instead of waiting DRAIN_TIMEOUT (60 s) for it");
        } finally {
            server.close();
        }
    }

    @Test
    void aClientCannotRenegotiate() throws Exception {
        try (TestServer server = TestServer.start(mtls())) {
            Socket plain = new Socket(InetAddress.getLoopbackAddress(), server.server().tlsPort());
            try (SSLSocket tls = (SSLSocket) client(true, false).getSocketFactory().createSocket(plain, "localhost", server.server().tlsPort(), true)) {
                tls.setEnabledProtocols(new String[]{"TLSv1.2"});
                tls.startHandshake();
                tls.getSession().invalidate();
                tls.startHandshake(); // asks for a renegotiation
                MllpClient client = MllpClient.over(tls, Duration.ofSeconds(5), 1 << 20);
                assertThrows(IOException.class, () -> client.exchange(adt("RENEGOTIATED")), "the server refuses client-initiated renegotiation");
            }
        }
    }

    /** Whatever comes back (a TLS alert at most) is no MLLP frame, and the connection ends. */
    private static void assertClosedWithoutAnAck(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            for (int b; (b = in.read()) >= 0 && got.size() < 1 << 16; ) got.write(b);
        } catch (IOException reset) {
            // a reset is a close too
        }
        assertTrue(got.size() < 100 && !got.toString(StandardCharsets.ISO_8859_1).contains("MSA"), got.size() + " bytes came back");
    }

    @Test
    void plainAndTlsListenSideBySideAndAllowedClientsAreChecked() throws Exception {
        try (TestServer server = TestServer.start(mtls("TLS_LISTEN_ADDR", "127.0.0.1:0", "TLS_ALLOWED_CLIENTS", "CN=someone-else,O=Elsewhere; DNS:lab1.test"));
             MllpClient plain = server.connect(); MllpClient tls = connect(client(true, false), server.server().tlsPort())) {
            assertEquals("AA", Hl7Text.of(plain.exchange(adt("P-1"))).ackCode());
            assertEquals("AA", Hl7Text.of(tls.exchange(adt("S-1"))).ackCode());
        }
        try (TestServer server = TestServer.start(mtls("TLS_ALLOWED_CLIENTS", "DNS:someone-else.test"))) {
            assertThrows(IOException.class, () -> {
                try (MllpClient c = connect(client(true, false), server.server().tlsPort())) {
                    c.exchange(adt("NOT-ALLOWED"));
                }
            });
        }
    }

    @Test
    void aReloadGivesNewConnectionsTheNewCertificateWhileOpenOnesGoOnAndABadFileChangesNothing() throws Exception {
        Path cert = copy(pki.serverChain(), "live-cert.pem");
        Path key = copy(pki.serverKey(), "live-key.pem");
        try (TestServer server = TestServer.start("TLS_CERT_FILE", cert.toString(), "TLS_KEY_FILE", key.toString());
             MllpClient before = connect(TlsClient.context(Optional.of(pki.caCert()), Optional.empty(), Optional.empty()),
                     server.server().tlsPort())) {
            assertEquals("AA", Hl7Text.of(before.exchange(adt("R-1"))).ackCode());
            assertEquals("RSA", serverKeyAlgorithm(server.server().tlsPort()));

            Files.copy(pki.ecServerCert(), cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(pki.ecServerKey(), key, StandardCopyOption.REPLACE_EXISTING);
            assertTrue(server.server().reloadTls("test"));
            assertEquals("AA", Hl7Text.of(before.exchange(adt("R-2"))).ackCode(), "a connection opened before the reload goes on");
            assertEquals("EC", serverKeyAlgorithm(server.server().tlsPort()), "a new connection sees the new certificate");

            Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
            assertEquals(false, server.server().reloadTls("test"), "a bad file is refused");
            assertEquals("EC", serverKeyAlgorithm(server.server().tlsPort()), "and the current certificate stays");
            assertEquals("AA", Hl7Text.of(before.exchange(adt("R-3"))).ackCode());
        }
    }

    @Test
    void tlsWatchReloadsWhenTheFilesChangeOnDisk() throws Exception {
        Path cert = copy(pki.serverChain(), "watched-cert.pem");
        Path key = copy(pki.serverKey(), "watched-key.pem");
        var prepared = ConfigLoader.load(Map.of("TLS_CERT_FILE", cert.toString(), "TLS_KEY_FILE", key.toString(), "TLS_WATCH", "true"));
        TlsAcceptor acceptor = new TlsAcceptor(prepared.config().tls().orElseThrow(), prepared.tlsMaterial().orElseThrow());
        var before = acceptor.material();
        acceptor.reloadIfChanged();
        assertTrue(before == acceptor.material(), "unchanged files: nothing reloaded");
        Files.copy(pki.ecServerCert(), cert, StandardCopyOption.REPLACE_EXISTING); // as a Kubernetes secret update swaps them
        Files.copy(pki.ecServerKey(), key, StandardCopyOption.REPLACE_EXISTING);
        acceptor.reloadIfChanged();
        assertEquals("EC", acceptor.material().chain().getFirst().getPublicKey().getAlgorithm());
    }

    /** A copy the test may replace, as an operator replaces the files a server uses. */
    private static Path copy(Path file, String name) throws IOException {
        return Files.copy(file, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private static String serverKeyAlgorithm(int port) throws Exception {
        SSLContext trusting = TlsClient.context(Optional.of(pki.caCert()), Optional.empty(), Optional.empty());
        try (SSLSocket socket = TlsClient.connect(trusting, "localhost", port, Duration.ofSeconds(5), Duration.ofSeconds(5))) {
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getPublicKey().getAlgorithm();
        }
    }

    @Test
    void sighupReloadsTheCertificateOfARunningServer() throws Exception {
        Path data = Files.createTempDirectory("mllp-tls-hup-");
        Map<String, String> env = Map.of("DATA_DIR", data.toString(), "LISTEN_ADDR", "127.0.0.1:0",
                "TLS_CERT_FILE", pki.serverChain().toString(), "TLS_KEY_FILE", pki.serverKey().toString());
        try (ServerProcessTest.Child child = ServerProcessTest.Child.start(env)) {
            child.awaitLine(Pattern.compile("accepting on"));
            new ProcessBuilder("kill", "-HUP", Long.toString(child.process.pid())).start().waitFor();
            child.awaitLine(Pattern.compile("TLS reloaded \\(SIGHUP\\)"));
        } finally {
            TestServer.deleteRecursively(data);
        }
    }

    @Test
    void badTlsFilesStopTheStartWithAClearMessage() {
        ConfigException mismatch = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of(
                "TLS_CERT_FILE", pki.serverCert().toString(), "TLS_KEY_FILE", pki.clientKey().toString())));
        assertTrue(mismatch.getMessage().contains("does not match"), mismatch.getMessage());
        ConfigException half = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("TLS_CERT_FILE", pki.serverCert().toString())));
        assertTrue(half.getMessage().contains("TLS_KEY_FILE is not: TLS needs both"), half.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of(
                "TLS_CERT_FILE", dir.resolve("nope.pem").toString(), "TLS_KEY_FILE", pki.serverKey().toString())));
        assertTrue(missing.getMessage().contains("nope.pem"), missing.getMessage());
    }

    @Test
    void theSendCommandAndTheMllpConnectorSpeakTlsWithAClientCertificate() throws Exception {
        try (TestServer downstream = TestServer.start(mtls());
             TestServer upstream = TestServer.start("CONNECTOR_DOWN_TYPE", "mllp",
                     "CONNECTOR_DOWN_URL", "mllps://localhost:" + downstream.server().tlsPort(),
                     "CONNECTOR_DOWN_CA_FILE", pki.caCert().toString(), "CONNECTOR_DOWN_CERT_FILE", pki.clientCert().toString(),
                     "CONNECTOR_DOWN_KEY_FILE", pki.clientKey().toString())) {
            Path file = dir.resolve("send-" + System.nanoTime() + ".hl7");
            Files.write(file, adt("SEND-TLS-1"));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code = Main.run(new String[]{"send", "--to", "localhost:" + downstream.server().tlsPort(), "--tls", "--ca",
                            pki.caCert().toString(), "--cert", pki.clientCert().toString(), "--key", pki.clientKey().toString(), file.toString()},
                    Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
            try (MllpClient client = upstream.connect()) {
                assertEquals("AA", Hl7Text.of(client.exchange(adt("FWD-TLS-1"))).ackCode());
            }
            org.mllpserver.delivery.FanOutTest.awaitDelivered(upstream, "down", 1);
        }
    }
}
