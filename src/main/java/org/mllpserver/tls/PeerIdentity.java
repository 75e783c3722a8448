package org.mllpserver.tls;

import java.net.InetAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;

/**
 * Who the peer of a TLS session is: a text for the journal record (the audit trail), and the
 * {@code TLS_ALLOWED_CLIENTS} check. Both look only at the peer's leaf certificate, which the
 * handshake has already validated against the client CA.
 *
 * <p>Limits: SAN kinds other than DNS, IP, URI and EMAIL are not shown and cannot be allowed;
 * DNS entries match exactly (no wildcards). The identity text is for reading, not for parsing:
 * a subject DN may itself contain "; ". Stateless; the predicates are immutable and thread-safe.
 */
public final class PeerIdentity {

    private static final String ENTRY_SEPARATOR = ";";

    private PeerIdentity() {}

    /**
     * "subject=&lt;RFC 2253 subject DN&gt;; san=DNS:a.example,IP:10.0.0.1,URI:...,EMAIL:..." from the
     * peer's leaf certificate ("san=" is empty when it has none), or "" when the peer presented no
     * certificate (no client authentication).
     */
    public static String of(SSLSession session) {
        return leaf(session)
                .map(c -> printable("subject=" + CertificateText.subject(c) + "; san=" + String.join(",", CertificateText.subjectAltNames(c))))
                .orElse("");
    }

    /** Control characters (a certificate may hold them in a value) as \\uXXXX: the identity goes into logs and records. */
    private static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c)) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }

    /**
     * The {@code TLS_ALLOWED_CLIENTS} check. Entries are separated by ';' (a DN holds commas);
     * each is a full subject DN ("CN=lab1,O=Hospital", compared as X500Principal: spacing and the
     * case of attribute names and values do not matter) or one of "DNS:name" (case-insensitive),
     * "IP:address" (compared as addresses, so IPv6 spellings agree), "URI:..." or "EMAIL:..."
     * (exact), matching one SAN. A session passes when its peer certificate matches any entry.
     * An empty list lets everyone through: the handshake already demands a valid certificate
     * when a client CA is set. A session without a peer certificate passes only an empty list.
     */
    public static Predicate<SSLSession> allowed(String spec) throws TlsException {
        List<Predicate<X509Certificate>> entries = new ArrayList<>();
        for (String raw : spec.split(ENTRY_SEPARATOR)) {
            String entry = raw.strip();
            if (!entry.isEmpty()) entries.add(entry(entry));
        }
        if (entries.isEmpty()) return session -> true;
        List<Predicate<X509Certificate>> all = List.copyOf(entries);
        return session -> leaf(session).map(c -> all.stream().anyMatch(e -> e.test(c))).orElse(false);
    }

    private static Predicate<X509Certificate> entry(String entry) throws TlsException {
        int colon = entry.indexOf(':');
        String kind = colon < 0 ? "" : entry.substring(0, colon).strip().toUpperCase(Locale.ROOT);
        String value = colon < 0 ? "" : entry.substring(colon + 1).strip();
        return switch (kind) {
            case "DNS" -> san(entry, "DNS:", value, value::equalsIgnoreCase);
            case "URI" -> san(entry, "URI:", value, value::equals);
            case "EMAIL" -> san(entry, "EMAIL:", value, value::equals);
            case "IP" -> ip(entry, value);
            default -> subject(entry);
        };
    }

    private static Predicate<X509Certificate> san(String entry, String prefix, String value, Predicate<String> matches) throws TlsException {
        if (value.isEmpty()) throw malformed(entry, "nothing after " + prefix);
        return certificate -> CertificateText.subjectAltNames(certificate).stream()
                .filter(name -> name.startsWith(prefix))
                .anyMatch(name -> matches.test(name.substring(prefix.length())));
    }

    private static Predicate<X509Certificate> ip(String entry, String value) throws TlsException {
        InetAddress wanted;
        try {
            wanted = InetAddress.ofLiteral(value); // a literal only: never a DNS lookup
        } catch (IllegalArgumentException e) {
            throw malformed(entry, "'" + value + "' is not an IP address");
        }
        return san(entry, "IP:", value, name -> wanted.equals(InetAddress.ofLiteral(name)));
    }

    private static Predicate<X509Certificate> subject(String entry) throws TlsException {
        X500Principal wanted;
        try {
            wanted = new X500Principal(entry);
        } catch (IllegalArgumentException e) {
            throw malformed(entry, "not a subject DN (" + e.getMessage() + ")");
        }
        return certificate -> certificate.getSubjectX500Principal().equals(wanted);
    }

    private static TlsException malformed(String entry, String why) {
        return new TlsException("TLS_ALLOWED_CLIENTS entry '" + entry + "': " + why + ". Each entry, separated by ';',"
                + " is a subject DN such as CN=lab1,O=Hospital, or DNS:name, IP:address, URI:uri or EMAIL:address");
    }

    /** The peer's leaf certificate, or empty when it presented none. */
    private static Optional<X509Certificate> leaf(SSLSession session) {
        Certificate[] peer;
        try {
            peer = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty(); // no client certificate: the normal case without mTLS
        }
        return peer.length > 0 && peer[0] instanceof X509Certificate x509 ? Optional.of(x509) : Optional.empty();
    }
}
