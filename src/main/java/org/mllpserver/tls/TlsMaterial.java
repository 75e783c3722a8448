package org.mllpserver.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * The server's TLS material: certificate chain, private key, optional client CA, minimum version;
 * and the {@link SSLContext} built from them. Loading checks everything an operator can get
 * wrong, so a bad file stops the start (or fails a reload, keeping the old material) with a
 * message naming the file, instead of failing each handshake later.
 *
 * <p>Cipher suites: TLS 1.3's three AEAD suites, and for TLS 1.2 only ECDHE (forward secrecy)
 * with AES-GCM or ChaCha20-Poly1305 (AEAD), for ECDSA and RSA certificates. The server's order
 * wins. A reload builds a new {@code TlsMaterial}; sockets already wrapped keep the one they have.
 *
 * <p>Limits: no revocation checking (CRL/OCSP) of client certificates; intermediates of the
 * server chain are sent as given, not checked. Immutable; thread-safe.
 */
public final class TlsMaterial {

    /** TLS 1.3 suites, the JDK's default order. All are AEAD and every 1.3 key exchange is ephemeral. */
    static final List<String> TLS_13_SUITES = List.of(
            "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256");
    /** TLS 1.2 suites with forward secrecy (ECDHE) and AEAD (GCM, Poly1305): no CBC, no static RSA, no DHE. */
    static final List<String> TLS_12_SUITES = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private final List<X509Certificate> chain;
    private final boolean clientCertificateRequired;
    private final TlsVersion minimum;
    private final SSLContext context;
    /** Never handed out: {@link #cipherSuites()} returns a copy. */
    private final String[] cipherSuites;
    private final String description;

    private TlsMaterial(List<X509Certificate> chain, boolean clientCertificateRequired, TlsVersion minimum, SSLContext context) {
        this.chain = List.copyOf(chain);
        this.clientCertificateRequired = clientCertificateRequired;
        this.minimum = minimum;
        this.context = context;
        this.cipherSuites = enabledSuites(context, minimum);
        this.description = describe(chain.getFirst());
    }

    /**
     * Loads and checks everything: the files are readable PEM, the certificate file holds at least
     * one certificate, the key matches the first (leaf) certificate, the leaf is valid now, and the
     * client CA file, when given, holds at least one certificate.
     */
    public static TlsMaterial load(Path certFile, Path keyFile, Optional<Path> clientCaFile, TlsVersion minimum) throws TlsException {
        return load(certFile, keyFile, clientCaFile, minimum, Clock.systemUTC());
    }

    /** {@link #load(Path, Path, Optional, TlsVersion)}, judging the leaf's validity dates by {@code clock}. */
    public static TlsMaterial load(Path certFile, Path keyFile, Optional<Path> clientCaFile, TlsVersion minimum, Clock clock)
            throws TlsException {
        List<X509Certificate> chain = PemFiles.certificates(certFile);
        PrivateKey key = PemFiles.privateKey(keyFile);
        KeyCheck.matchesLeaf(key, keyFile, chain, certFile);
        KeyCheck.validAt(chain.getFirst(), certFile, clock.instant());
        Optional<List<X509Certificate>> clientCas = clientCaFile.isPresent()
                ? Optional.of(PemFiles.certificates(clientCaFile.get()))
                : Optional.empty();
        return new TlsMaterial(chain, clientCas.isPresent(), minimum, context(chain, key, clientCas, certFile));
    }

    private static SSLContext context(List<X509Certificate> chain, PrivateKey key, Optional<List<X509Certificate>> clientCas, Path certFile)
            throws TlsException {
        try {
            TrustManager[] trust = clientCas.isPresent() ? Contexts.trustManagers(clientCas.get()) : null;
            return Contexts.tls(Contexts.keyManagers(chain, key), trust);
        } catch (GeneralSecurityException e) {
            throw new TlsException("cannot build a TLS context from " + certFile + " and its key: " + e.getMessage(), e);
        }
    }

    /** The suites both our server and our clients enable (only AEAD with forward secrecy for 1.2). */
    static String[] enabledSuites(SSLContext context, TlsVersion minimum) {
        Set<String> supported = Set.of(context.getSupportedSSLParameters().getCipherSuites());
        Stream<String> wanted = minimum == TlsVersion.TLS_1_2
                ? Stream.concat(TLS_13_SUITES.stream(), TLS_12_SUITES.stream())
                : TLS_13_SUITES.stream();
        return wanted.filter(supported::contains).toArray(String[]::new);
    }

    private static String describe(X509Certificate leaf) {
        return "subject=" + CertificateText.subject(leaf)
                + "; san=" + String.join(",", CertificateText.subjectAltNames(leaf))
                + "; notAfter=" + leaf.getNotAfter().toInstant()
                + "; sha256=" + CertificateText.sha256(leaf);
    }

    /** A "TLS" context presenting this chain and key; when a client CA was given, trusting exactly those CAs. */
    public SSLContext context() {
        return context;
    }

    /** The certificate chain as read, leaf first. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** True when a client CA was given: every client must present a certificate it issued. */
    public boolean clientCertificateRequired() {
        return clientCertificateRequired;
    }

    /**
     * Wraps an accepted plain socket as a server-side SSLSocket with the protocols, cipher suites
     * (in the server's order) and client-certificate requirement applied. Closing the SSLSocket
     * closes {@code accepted}. Does not start the handshake: the caller does, under its own timeout.
     */
    public SSLSocket wrap(Socket accepted) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(accepted, null, accepted.getPort(), true);
        socket.setUseClientMode(false);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setProtocols(minimum.protocols());
        parameters.setCipherSuites(cipherSuites.clone());
        parameters.setUseCipherSuitesOrder(true);
        parameters.setNeedClientAuth(clientCertificateRequired);
        socket.setSSLParameters(parameters);
        return socket;
    }

    /** The suites enabled, in the server's order of preference: see the class comment. Only suites the JDK supports. */
    public String[] cipherSuites() {
        return cipherSuites.clone();
    }

    /** For logs: "subject=...; san=DNS:...,IP:...; notAfter=...; sha256=AB:CD:..." of the leaf. */
    public String describe() {
        return description;
    }

    @Override
    public String toString() {
        return "TlsMaterial[" + description + "; minimum " + minimum + (clientCertificateRequired ? "; client certificate required]" : "]");
    }
}
