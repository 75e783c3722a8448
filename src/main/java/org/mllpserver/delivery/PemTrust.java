package org.mllpserver.delivery;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * A TLS client context that trusts exactly the certificates of one PEM file (one or more
 * {@code -----BEGIN CERTIFICATE-----} blocks), instead of the system's trust store. Host names
 * are still verified by the client that uses it. Read once, at start: a file that cannot be read
 * or holds no certificate stops the start with a message naming the file and the reason.
 */
final class PemTrust {

    /** A CA bundle is a few hundred KiB at most (the whole Mozilla bundle is about 220 KiB); more is not a CA file. */
    static final int MAX_FILE_BYTES = 4 << 20;

    private PemTrust() {}

    static SSLContext sslContext(Path caFile) throws IOException, GeneralSecurityException {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        List<Certificate> certificates = certificates(caFile);
        for (int i = 0; i < certificates.size(); i++) anchors.setCertificateEntry("ca-" + i, certificates.get(i));
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(anchors);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    static List<Certificate> certificates(Path caFile) throws IOException, GeneralSecurityException {
        byte[] pem = read(caFile);
        List<Certificate> certificates;
        try {
            certificates = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)));
        } catch (CertificateException e) {
            throw new CertificateException("CA file " + caFile + " is not a PEM file of X.509 certificates: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) throw new CertificateException("CA file " + caFile + " holds no certificate");
        return certificates;
    }

    private static byte[] read(Path caFile) throws IOException {
        byte[] pem;
        try (InputStream in = Files.newInputStream(caFile)) {
            pem = in.readNBytes(MAX_FILE_BYTES + 1); // bounded: never more than the limit in memory
        } catch (NoSuchFileException e) {
            throw new IOException("CA file " + caFile + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new IOException("CA file " + caFile + " cannot be read: permission denied", e);
        } catch (IOException e) {
            throw new IOException("CA file " + caFile + " cannot be read: " + e, e);
        }
        if (pem.length > MAX_FILE_BYTES) throw new IOException("CA file " + caFile + " is larger than " + MAX_FILE_BYTES + " bytes: not a CA file");
        return pem;
    }
}
