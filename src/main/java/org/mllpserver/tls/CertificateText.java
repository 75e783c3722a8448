package org.mllpserver.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * How a certificate is written in logs and journal records: subject in RFC 2253 form, subject
 * alternative names as "DNS:a.example", "IP:10.0.0.1", "URI:...", "EMAIL:...", SHA-256
 * fingerprint as colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256` prints it).
 *
 * <p>Limits: the other SAN kinds (otherName, directoryName, registeredID, ...) are left out.
 * Stateless; thread-safe.
 */
final class CertificateText {

    private static final int SAN_EMAIL = 1;
    private static final int SAN_DNS = 2;
    private static final int SAN_URI = 6;
    private static final int SAN_IP = 7;

    private CertificateText() {}

    static String subject(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName(X500Principal.RFC2253);
    }

    /** The SANs in certificate order, each "TYPE:value". */
    static List<String> subjectAltNames(X509Certificate certificate) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            // An unparseable extension yields no names: nothing can match it, nothing false is shown.
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (names == null) return out;
        for (List<?> name : names) {
            String prefix = prefix((Integer) name.get(0));
            if (prefix != null && name.get(1) instanceof String value) out.add(prefix + value);
        }
        return out;
    }

    private static String prefix(int type) {
        return switch (type) {
            case SAN_DNS -> "DNS:";
            case SAN_IP -> "IP:";
            case SAN_URI -> "URI:";
            case SAN_EMAIL -> "EMAIL:";
            default -> null;
        };
    }

    static String sha256(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            // Every JDK has SHA-256, and a certificate that was parsed can be encoded again.
            throw new IllegalStateException(e);
        }
    }
}
