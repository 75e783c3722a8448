package org.mllpserver.tls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * The client side of TLS, for the {@code send} command and the mllp connector: a context from PEM
 * files, and a connect that verifies the server's host name and bounds the handshake.
 *
 * <p>Protocols: TLS 1.3 and 1.2. Cipher suites: the JDK's defaults, since the server chooses and
 * ours only accepts AEAD with forward secrecy anyway. The client certificate, when given, is
 * offered when the server asks for one from its issuer (or names no issuers): that is how the
 * JDK's key manager chooses. Stateless; thread-safe.
 */
public final class TlsClient {

    private static final System.Logger LOG = System.getLogger(TlsClient.class.getName());

    private TlsClient() {}

    /**
     * A client context trusting the certificates of {@code caFile} (or the system trust store when
     * empty) and presenting {@code certFile}/{@code keyFile} when both are given. The client
     * certificate is checked as the server's is: key matches, valid now.
     */
    public static SSLContext context(Optional<Path> caFile, Optional<Path> certFile, Optional<Path> keyFile) throws TlsException {
        if (certFile.isPresent() != keyFile.isPresent()) {
            throw new TlsException("a client certificate needs both files: " + (certFile.isPresent()
                    ? "certificate file " + certFile.get() + " is given but no key file"
                    : "key file " + keyFile.get() + " is given but no certificate file"));
        }
        try {
            TrustManager[] trust = caFile.isPresent() ? Contexts.trustManagers(PemFiles.certificates(caFile.get())) : null;
            KeyManager[] keys = certFile.isPresent() ? clientKeys(certFile.get(), keyFile.get()) : null;
            return Contexts.tls(keys, trust);
        } catch (GeneralSecurityException e) {
            throw new TlsException("cannot build a TLS client context: " + e.getMessage(), e);
        }
    }

    private static KeyManager[] clientKeys(Path certFile, Path keyFile) throws TlsException, GeneralSecurityException {
        List<X509Certificate> chain = PemFiles.certificates(certFile);
        PrivateKey key = PemFiles.privateKey(keyFile);
        KeyCheck.matchesLeaf(key, keyFile, chain, certFile);
        KeyCheck.validAt(chain.getFirst(), certFile, Clock.systemUTC().instant());
        return Contexts.keyManagers(chain, key);
    }

    /**
     * Connects within {@code connectTimeout}, completes the handshake within {@code handshakeTimeout}
     * (a deadline for the whole handshake, not per read: a server that drips bytes does not extend
     * it), checks the server's certificate names {@code host} (HTTPS endpoint identification: a DNS
     * or IP SAN) and returns the socket. On any failure the socket is closed. Both timeouts must
     * be positive: zero would mean "wait forever" to {@link Socket#connect(java.net.SocketAddress, int)}.
     */
    public static SSLSocket connect(SSLContext context, String host, int port, Duration connectTimeout, Duration handshakeTimeout)
            throws IOException {
        requirePositive(connectTimeout, "connect timeout");
        requirePositive(handshakeTimeout, "handshake timeout");
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(host, port), Math.max(1, (int) connectTimeout.toMillis()));
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setProtocols(TlsVersion.TLS_1_2.protocols());
            // Our server's suites, not the JDK's defaults (which include CBC and finite-field DHE for 1.2).
            parameters.setCipherSuites(TlsMaterial.enabledSuites(context, TlsVersion.TLS_1_2));
            socket.setSSLParameters(parameters);
            handshake(socket, plain, handshakeTimeout, host + ":" + port);
            return socket;
        } catch (IOException | RuntimeException e) {
            closeAfterFailure(plain, e);
            throw e;
        }
    }

    private static void requirePositive(Duration timeout, String what) {
        if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " must be between 1 ms and " + Integer.MAX_VALUE + " ms, not " + timeout);
        }
    }

    /**
     * The handshake under a deadline: a watchdog closes the plain socket when the deadline passes,
     * which ends a blocked read. Whoever settles first (handshake or watchdog) decides the outcome,
     * so a handshake that finishes as the deadline passes is either kept whole or reported as timed out.
     */
    private static void handshake(SSLSocket socket, Socket plain, Duration timeout, String peer) throws IOException {
        AtomicBoolean settled = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        Thread.ofVirtual().name("tls-handshake-deadline " + peer).start(() -> closeAtDeadline(plain, timeout, settled, finished));
        try {
            socket.startHandshake();
        } catch (IOException e) {
            if (!settled.compareAndSet(false, true)) throw timedOut(peer, timeout, e);
            throw e;
        } finally {
            finished.countDown();
        }
        if (!settled.compareAndSet(false, true)) throw timedOut(peer, timeout, null); // done, but the watchdog closed it first
    }

    private static void closeAtDeadline(Socket plain, Duration timeout, AtomicBoolean settled, CountDownLatch finished) {
        try {
            if (finished.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) return;
            if (settled.compareAndSet(false, true)) plain.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // nobody interrupts this thread; if someone does, it just ends
        } catch (IOException e) {
            // The socket is unusable either way; the handshake thread reports the timeout.
            LOG.log(System.Logger.Level.DEBUG, "closing the socket at the handshake deadline failed", e);
        }
    }

    private static SocketTimeoutException timedOut(String peer, Duration timeout, IOException cause) {
        SocketTimeoutException e = new SocketTimeoutException("TLS handshake with " + peer + " did not complete within " + timeout);
        if (cause != null) e.initCause(cause);
        return e;
    }

    private static void closeAfterFailure(Socket plain, Exception failure) {
        try {
            plain.close();
        } catch (IOException closing) {
            failure.addSuppressed(closing);
        }
    }
}
