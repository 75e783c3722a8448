package org.mllpserver.tls;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.testing.RawTls;
import org.mllpserver.testing.TestPki;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TlsMaterial, PeerIdentity and TlsClient over real handshakes on loopback: JDK clients, a
 * hand-made TLS 1.1 ClientHello, and {@code openssl s_client}.
 */
class TlsMaterialTest {

    private static final String LAB_IDENTITY = "subject=CN=lab-analyser,O=Test Hospital; san=DNS:lab1.test";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    static Path pkiDir;
    static TestPki pki;
    /** Trusts Test CA, presents no certificate. */
    static SSLContext anonymous;
    /** Trusts Test CA, presents the lab-analyser certificate. */
    static SSLContext lab;

    @BeforeAll
    static void makePki() throws Exception {
        pki = TestPki.create(pkiDir);
        anonymous = TlsClient.context(Optional.of(pki.caCert()), Optional.empty(), Optional.empty());
        lab = TlsClient.context(Optional.of(pki.caCert()), Optional.of(pki.clientCert()), Optional.of(pki.clientKey()));
    }

    private static TlsMaterial server(TlsVersion minimum) throws TlsException {
        return TlsMaterial.load(pki.serverChain(), pki.serverKey(), Optional.empty(), minimum);
    }

    private static TlsMaterial mutualServer() throws TlsException {
        return TlsMaterial.load(pki.serverChain(), pki.serverKey(), Optional.of(pki.caCert()), TlsVersion.TLS_1_2);
    }

    // ---- loading

    @Test
    void certificatesOutsideTheirDatesAreRefusedWithTheDates() {
        TlsException expired = assertThrows(TlsException.class,
                () -> TlsMaterial.load(pki.expiredCert(), pki.serverKey(), Optional.empty(), TlsVersion.TLS_1_2));
        assertTrue(expired.getMessage().contains("the certificate in " + pki.expiredCert() + " (CN=localhost) expired on 2021-01-01T00:00:00Z"
                + " (valid from 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z"), expired.getMessage());
        TlsException early = assertThrows(TlsException.class,
                () -> TlsMaterial.load(pki.notYetValidCert(), pki.serverKey(), Optional.empty(), TlsVersion.TLS_1_2));
        assertTrue(early.getMessage().contains("is not valid until 2040-01-01T00:00:00Z"), early.getMessage());
    }

    /** The decision table of the validity check, at its edges, by a fixed clock. */
    @Test
    void validityIsJudgedByTheClockGiven() throws Exception {
        X509Certificate leaf = PemFiles.certificates(pki.serverCert()).getFirst();
        Instant from = leaf.getNotBefore().toInstant();
        Instant until = leaf.getNotAfter().toInstant();
        assertLoadsAt(from, true);
        assertLoadsAt(until, true);
        assertLoadsAt(from.minusSeconds(1), false);
        assertLoadsAt(until.plusSeconds(1), false);
    }

    private static void assertLoadsAt(Instant now, boolean loads) {
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        try {
            TlsMaterial.load(pki.serverCert(), pki.serverKey(), Optional.empty(), TlsVersion.TLS_1_2, clock);
            assertTrue(loads, "loaded at " + now);
        } catch (TlsException e) {
            assertFalse(loads, "refused at " + now + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("it is now " + now), e.getMessage());
        }
    }

    @Test
    void aClientCaFileMustHoldACertificate() {
        TlsException e = assertThrows(TlsException.class,
                () -> TlsMaterial.load(pki.serverCert(), pki.serverKey(), Optional.of(pki.clientKey()), TlsVersion.TLS_1_2));
        assertTrue(e.getMessage().contains("certificate file " + pki.clientKey() + " holds no CERTIFICATE block"), e.getMessage());
    }

    @Test
    void describeNamesTheLeafAndItsFingerprintAsOpensslComputesIt() throws Exception {
        TlsMaterial material = server(TlsVersion.TLS_1_2);
        String fingerprint = pki.run("x509", "-in", pki.serverCert().toString(), "-noout", "-fingerprint", "-sha256").strip();
        String expected = "subject=CN=localhost; san=DNS:localhost,IP:127.0.0.1; notAfter="
                + material.chain().getFirst().getNotAfter().toInstant() + "; sha256=" + fingerprint.substring(fingerprint.indexOf('=') + 1);
        assertEquals(expected, material.describe());
        assertEquals(2, material.chain().size());
        assertFalse(material.clientCertificateRequired());
        assertTrue(mutualServer().clientCertificateRequired());
    }

    @Test
    void onlyAeadSuitesWithForwardSecrecyAreEnabled() throws Exception {
        List<String> twelve = Arrays.asList(server(TlsVersion.TLS_1_2).cipherSuites());
        assertEquals(9, twelve.size(), twelve.toString());
        assertTrue(twelve.stream().allMatch(s -> s.matches("TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)")
                || s.matches("TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)")), twelve.toString());
        assertEquals(TlsMaterial.TLS_13_SUITES, Arrays.asList(server(TlsVersion.TLS_1_3).cipherSuites()));
    }

    @Test
    void versionsParse() {
        assertEquals(TlsVersion.TLS_1_2, TlsVersion.parse("1.2"));
        assertEquals(TlsVersion.TLS_1_3, TlsVersion.parse("TLSv1.3"));
        assertArrayEquals(new String[] {"TLSv1.3", "TLSv1.2"}, TlsVersion.TLS_1_2.protocols());
        assertArrayEquals(new String[] {"TLSv1.3"}, TlsVersion.TLS_1_3.protocols());
        for (String bad : List.of("1.1", "1.0", "", "TLSv1.1", "1.4", "SSLv3")) {
            assertThrows(IllegalArgumentException.class, () -> TlsVersion.parse(bad), bad);
        }
    }

    // ---- protocol versions and suites

    @Test
    void tls12AndTls13AreAccepted() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2))) {
            for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
                SSLSession client = talk(anonymous, server.port(), only(protocol));
                assertEquals(protocol, client.getProtocol());
                assertEquals(protocol, server.next().succeeded().getProtocol());
            }
        }
    }

    /**
     * Both sides refuse TLS 1.1. The JDK client below refuses first: jdk.tls.disabledAlgorithms
     * keeps it from sending a TLS 1.1 ClientHello at all, so the server only sees a connection
     * that closes. The server's own refusal is shown by {@link #aTls11ClientHelloGetsAProtocolVersionAlert}
     * and by openssl s_client in {@link #opensslSClientCompletesTls12AndTls13ButNotTls11}.
     */
    @Test
    void aJdkTls11ClientCannotConnect() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2))) {
            assertThrows(SSLHandshakeException.class, () -> talk(anonymous, server.port(), only("TLSv1.1")));
            server.next().failed();
        }
    }

    /** A hand-made TLS 1.1 ClientHello, which no JDK client will send: the server answers with a fatal protocol_version alert. */
    @Test
    void aTls11ClientHelloGetsAProtocolVersionAlert() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2));
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            socket.setSoTimeout(TlsServer.READ_TIMEOUT_MILLIS);
            socket.getOutputStream().write(RawTls.clientHello(RawTls.TLS_1_1));
            byte[] answer = socket.getInputStream().readNBytes(RawTls.ALERT_RECORD_BYTES);
            assertEquals(RawTls.fatalAlert(RawTls.PROTOCOL_VERSION), RawTls.alertOf(answer), RawTls.hex(answer));
            assertTrue(server.next().failed() instanceof SSLHandshakeException);
        }
    }

    @Test
    void withTls13AsTheMinimumATls12ClientIsRefused() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_3))) {
            assertThrows(SSLHandshakeException.class, () -> talk(anonymous, server.port(), only("TLSv1.2")));
            server.next().failed();
            assertEquals("TLSv1.3", talk(anonymous, server.port(), only("TLSv1.3", "TLSv1.2")).getProtocol());
            server.next().succeeded();
        }
    }

    @Test
    void tls12NegotiatesOnlyAeadSuitesWithForwardSecrecy() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2))) {
            SSLSession everything = talk(anonymous, server.port(), only("TLSv1.2").andThen(s -> s.setEnabledCipherSuites(s.getSupportedCipherSuites())));
            assertAeadWithForwardSecrecy(everything.getCipherSuite());
            server.next().succeeded();
            String chacha = "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
            assertEquals(chacha, talk(anonymous, server.port(), only("TLSv1.2").andThen(suites(chacha))).getCipherSuite());
            server.next().succeeded();
            Consumer<SSLSocket> cbcOnly = suites("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
                    "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256");
            assertThrows(SSLHandshakeException.class, () -> talk(anonymous, server.port(), only("TLSv1.2").andThen(cbcOnly)));
            server.next().failed();
        }
    }

    @Test
    void ecEd25519AndRsaPssCertificatesServeToo() throws Exception {
        TlsMaterial ec = TlsMaterial.load(pki.ecServerCert(), pki.ecServerKeySec1(), Optional.empty(), TlsVersion.TLS_1_2);
        try (TlsServer server = new TlsServer(ec)) {
            String suite = talk(anonymous, server.port(), only("TLSv1.2")).getCipherSuite();
            assertTrue(suite.startsWith("TLS_ECDHE_ECDSA_WITH_"), suite);
            assertAeadWithForwardSecrecy(suite);
            server.next().succeeded();
        }
        TlsMaterial ed25519 = TlsMaterial.load(pki.ed25519Cert(), pki.ed25519Key(), Optional.empty(), TlsVersion.TLS_1_3);
        try (TlsServer server = new TlsServer(ed25519)) {
            assertEquals("EdDSA", talk(anonymous, server.port(), only("TLSv1.3")).getPeerCertificates()[0].getPublicKey().getAlgorithm());
            server.next().succeeded();
        }
        TlsMaterial pss = TlsMaterial.load(pki.rsaPssCert(), pki.rsaPssKey(), Optional.empty(), TlsVersion.TLS_1_2);
        try (TlsServer server = new TlsServer(pss)) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                SSLSession client = talk(anonymous, server.port(), only(protocol));
                assertEquals("RSASSA-PSS", client.getPeerCertificates()[0].getPublicKey().getAlgorithm(), protocol);
                server.next().succeeded();
            }
        }
    }

    private static void assertAeadWithForwardSecrecy(String suite) {
        assertTrue(suite.contains("ECDHE") && (suite.contains("_GCM_") || suite.contains("CHACHA20")), suite);
    }

    // ---- client certificates

    @Test
    void underMutualTlsAClientWithoutACertificateIsRefused() throws Exception {
        try (TlsServer server = new TlsServer(mutualServer())) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                // The server's outcome is the one that counts. The client sees an alert, or a broken
                // pipe when the server closes while it is still writing its flight; in TLS 1.3 its own
                // handshake completes before the server has judged it, and the refusal comes on its first read.
                assertThrows(IOException.class, () -> talk(anonymous, server.port(), only(protocol)), protocol);
                assertInstanceOf(SSLHandshakeException.class, server.next().failed(), protocol);
                talk(lab, server.port(), only(protocol)); // the same, with a certificate: the certificate made the difference
                server.next().succeeded();
            }
        }
    }

    @Test
    void underMutualTlsAClientCertificateFromAnotherCaIsRefused() throws Exception {
        SSLContext other = alwaysPresenting(pki.otherClientCert(), pki.otherClientKey());
        try (TlsServer server = new TlsServer(mutualServer())) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                assertThrows(IOException.class, () -> talk(other, server.port(), only(protocol)), protocol); // see the test above
                Exception refused = server.next().failed();
                assertTrue(causedBy(refused, CertificateException.class), "refused for another reason than trust: " + refused);
                talk(lab, server.port(), only(protocol)); // the same, with a Test CA certificate: the issuer made the difference
                server.next().succeeded();
            }
        }
    }

    @Test
    void underMutualTlsAGoodClientIsAcceptedAndIdentified() throws Exception {
        try (TlsServer server = new TlsServer(mutualServer())) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                SSLSession client = talk(lab, server.port(), only(protocol));
                assertEquals(LAB_IDENTITY, PeerIdentity.of(server.next().succeeded()), protocol);
                assertEquals("subject=CN=localhost; san=DNS:localhost,IP:127.0.0.1", PeerIdentity.of(client), protocol);
            }
        }
    }

    @Test
    void withoutClientAuthenticationThePeerIdentityIsEmpty() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2))) {
            talk(lab, server.port(), only("TLSv1.3"));
            SSLSession session = server.next().succeeded();
            assertEquals("", PeerIdentity.of(session));
            assertTrue(PeerIdentity.allowed(" ; ").test(session), "an empty list lets everyone through");
            assertFalse(PeerIdentity.allowed("DNS:lab1.test").test(session), "a list needs a certificate to match");
        }
    }

    @Test
    void allowedClientsMatchASubjectOrOneSan() throws Exception {
        SSLSession session;
        try (TlsServer server = new TlsServer(mutualServer())) {
            talk(lab, server.port(), only("TLSv1.3"));
            session = server.next().succeeded();
        }
        for (String allowed : List.of("CN=lab-analyser,O=Test Hospital", "cn=lab-analyser, o=Test Hospital", "DNS:LAB1.test",
                "IP:10.0.0.1; DNS:lab1.test", "CN=someone else;CN=lab-analyser,O=Test Hospital", "")) {
            assertTrue(PeerIdentity.allowed(allowed).test(session), allowed);
        }
        for (String refused : List.of("CN=lab-analyser", "O=Test Hospital,CN=lab-analyser", "DNS:lab2.test", "IP:127.0.0.1",
                "URI:urn:lab1", "EMAIL:lab1@test", "CN=lab-analyser,O=Other Hospital")) {
            assertFalse(PeerIdentity.allowed(refused).test(session), refused);
        }
    }

    @Test
    void aMalformedAllowedClientsEntryIsRefusedNamingIt() {
        for (String bad : List.of("lab1", "IP:not-an-address", "DNS:", "CN=ok; EMAIL: ", "FOO:bar")) {
            TlsException e = assertThrows(TlsException.class, () -> PeerIdentity.allowed(bad), bad);
            assertTrue(e.getMessage().startsWith("TLS_ALLOWED_CLIENTS entry '"), e.getMessage());
        }
    }

    // ---- TlsClient

    @Test
    void theClientChecksTheServerNameAgainstItsCertificate() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2))) {
            for (String host : List.of("localhost", "127.0.0.1")) {
                try (SSLSocket socket = TlsClient.connect(anonymous, host, server.port(), TIMEOUT, TIMEOUT)) {
                    assertEquals(TlsServer.HELLO, socket.getInputStream().read(), host);
                }
                server.next().succeeded();
            }
        }
        // The lab analyser's certificate names lab1.test, not localhost.
        TlsMaterial misnamed = TlsMaterial.load(pki.clientCert(), pki.clientKey(), Optional.empty(), TlsVersion.TLS_1_2);
        try (TlsServer server = new TlsServer(misnamed)) {
            SSLHandshakeException e = assertThrows(SSLHandshakeException.class,
                    () -> TlsClient.connect(anonymous, "localhost", server.port(), TIMEOUT, TIMEOUT));
            assertTrue(causedBy(e, CertificateException.class), e.toString());
        }
    }

    @Test
    void withoutACaFileTheClientTrustsOnlyTheSystemStore() throws Exception {
        SSLContext system = TlsClient.context(Optional.empty(), Optional.empty(), Optional.empty());
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2))) {
            assertThrows(SSLHandshakeException.class, () -> TlsClient.connect(system, "localhost", server.port(), TIMEOUT, TIMEOUT));
        }
    }

    @Test
    void aHandshakeThatStallsEndsAtTheDeadline() throws Exception {
        Duration deadline = Duration.ofMillis(300);
        try (ServerSocket silent = new ServerSocket()) { // the kernel completes the TCP connect; nobody ever answers
            silent.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            long start = System.nanoTime();
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
                    () -> TlsClient.connect(anonymous, "localhost", silent.getLocalPort(), TIMEOUT, deadline));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(e.getMessage().contains("did not complete within PT0.3S"), e.getMessage());
            assertTrue(took.compareTo(deadline) >= 0 && took.compareTo(Duration.ofSeconds(3)) < 0, "took " + took);
        }
    }

    @Test
    void aZeroTimeoutIsRefusedRatherThanTakenAsForever() {
        assertThrows(IllegalArgumentException.class, () -> TlsClient.connect(anonymous, "localhost", 1, Duration.ZERO, TIMEOUT));
        assertThrows(IllegalArgumentException.class, () -> TlsClient.connect(anonymous, "localhost", 1, TIMEOUT, Duration.ZERO));
    }

    @Test
    void aClientCertificateNeedsBothFiles() {
        TlsException e = assertThrows(TlsException.class,
                () -> TlsClient.context(Optional.empty(), Optional.of(pki.clientCert()), Optional.empty()));
        assertTrue(e.getMessage().contains("certificate file " + pki.clientCert() + " is given but no key file"), e.getMessage());
        TlsException mismatch = assertThrows(TlsException.class,
                () -> TlsClient.context(Optional.empty(), Optional.of(pki.clientCert()), Optional.of(pki.serverKey())));
        assertTrue(mismatch.getMessage().contains("does not match the certificate in " + pki.clientCert()), mismatch.getMessage());
    }

    // ---- openssl s_client

    @Test
    void opensslSClientCompletesTls12AndTls13ButNotTls11() throws Exception {
        try (TlsServer server = new TlsServer(server(TlsVersion.TLS_1_2))) {
            for (String version : List.of("1_2", "1_3")) {
                TestPki.Completed run = sClient(server.port(), "-tls" + version);
                assertEquals(0, run.exit(), run.output());
                // "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384": s_client prints its SSL-Session block
                // (with "Protocol  :") for TLS 1.3 only once a session ticket arrives, so not this line.
                assertTrue(run.output().contains("New, TLSv" + version.replace('_', '.') + ", Cipher is "), run.output());
                assertTrue(run.output().contains("Verify return code: 0 (ok)"), run.output());
                server.next().succeeded();
            }
            // OpenSSL 3.0 itself allows TLS 1.1 only at security level 0: with it, the ClientHello
            // really offers TLS 1.1, and it is our server that refuses it.
            TestPki.Completed old = sClient(server.port(), "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
            assertNotEquals(0, old.exit(), old.output());
            assertFalse(old.output().contains("New, TLSv1.1, Cipher is"), old.output());
            assertTrue(old.output().contains("alert protocol version"), "not refused by the server's protocol_version alert: " + old.output());
            server.next().failed();
        }
    }

    private static TestPki.Completed sClient(int port, String... options) throws Exception {
        List<String> arguments = new ArrayList<>(List.of("s_client", "-connect", "127.0.0.1:" + port,
                "-servername", "localhost", "-verify_hostname", "localhost", "-CAfile", pki.caCert().toString(), "-verify_return_error"));
        arguments.addAll(List.of(options));
        return pki.runAllowingFailure(arguments.toArray(String[]::new));
    }

    // ---- helpers

    /** Connects, handshakes and reads the server's one byte; returns the client's session, or throws what the client saw. */
    private static SSLSession talk(SSLContext context, int port, Consumer<SSLSocket> configure) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(TlsServer.READ_TIMEOUT_MILLIS);
            configure.accept(socket);
            socket.startHandshake();
            if (socket.getInputStream().read() != TlsServer.HELLO) throw new EOFException("the server closed the connection after the handshake");
            return socket.getSession();
        }
    }

    private static Consumer<SSLSocket> only(String... protocols) {
        return socket -> socket.setEnabledProtocols(protocols);
    }

    private static Consumer<SSLSocket> suites(String... suites) {
        return socket -> socket.setEnabledCipherSuites(suites);
    }

    private static boolean causedBy(Throwable failure, Class<? extends Throwable> kind) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (kind.isInstance(t)) return true;
        }
        return false;
    }

    /**
     * A client that presents its certificate whatever CAs the server names, as {@code openssl
     * s_client -cert} does. The JDK's own key manager would not offer a certificate from a CA the
     * server did not name, and the test would only show "no certificate" again.
     */
    private static SSLContext alwaysPresenting(Path cert, Path key) throws Exception {
        X509Certificate[] chain = PemFiles.certificates(cert).toArray(X509Certificate[]::new);
        PrivateKey privateKey = PemFiles.privateKey(key);
        X509ExtendedKeyManager manager = new X509ExtendedKeyManager() {
            @Override public String[] getClientAliases(String keyType, Principal[] issuers) { return new String[] {"client"}; }
            @Override public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) { return "client"; }
            @Override public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) { return "client"; }
            @Override public String[] getServerAliases(String keyType, Principal[] issuers) { return null; }
            @Override public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) { return null; }
            @Override public X509Certificate[] getCertificateChain(String alias) { return chain.clone(); }
            @Override public PrivateKey getPrivateKey(String alias) { return privateKey; }
        };
        return Contexts.tls(new KeyManager[] {manager}, Contexts.trustManagers(PemFiles.certificates(pki.caCert())));
    }
}
