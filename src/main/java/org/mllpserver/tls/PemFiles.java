package org.mllpserver.tls;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Certificates and private keys from PEM files, as operators get them from a CA, openssl,
 * cert-manager or a Kubernetes secret.
 *
 * <p>Certificates: every "CERTIFICATE" block, in file order; other blocks (a key in a combined
 * file) are skipped. Keys: exactly one of "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or
 * "EC PRIVATE KEY" (SEC1); an "EC PARAMETERS" block beside a SEC1 key supplies its curve when the
 * key lacks one. Encrypted keys are refused: a server that starts unattended has no one to type a
 * passphrase, so the key is protected by file permissions instead.
 *
 * <p>Limits: files of at most {@link Pem#MAX_FILE_BYTES}; the key algorithms of {@link KeyDecoding}.
 * Every failure is a {@link TlsException} naming the file. Stateless; thread-safe.
 */
public final class PemFiles {

    private static final String CERTIFICATE = "CERTIFICATE";
    private static final Set<String> KEY_LABELS = Set.of("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY");
    private static final String ENCRYPTED_KEY = "ENCRYPTED PRIVATE KEY";
    private static final String EC_PARAMETERS = "EC PARAMETERS";

    private PemFiles() {}

    /** Every CERTIFICATE block in the file, in order (a chain: leaf first). TlsException when none or unreadable. */
    public static List<X509Certificate> certificates(Path file) throws TlsException {
        List<Pem.Block> blocks = Pem.read(file, "certificate file");
        List<X509Certificate> certificates = new ArrayList<>();
        for (Pem.Block block : blocks) {
            if (block.label().equals(CERTIFICATE)) certificates.add(certificate(file, block));
        }
        if (certificates.isEmpty()) {
            throw new TlsException("certificate file " + file + " holds no CERTIFICATE block, only " + labels(blocks)
                    + (blocks.stream().anyMatch(PemFiles::isKey) ? ": is it the key file?" : ""));
        }
        return List.copyOf(certificates);
    }

    private static X509Certificate certificate(Path file, Pem.Block block) throws TlsException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(block.der()));
        } catch (CertificateException | RuntimeException e) { // RuntimeException: the parser throws those on hostile bytes too
            throw new TlsException("certificate file " + file + ": " + block.where() + " is not a valid X.509 certificate ("
                    + e.getMessage() + ")", e);
        }
    }

    /**
     * The private key: "PRIVATE KEY" (PKCS#8: RSA, RSASSA-PSS, EC, Ed25519, Ed448), "RSA PRIVATE
     * KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC1, with its named curve). Encrypted keys ("ENCRYPTED
     * PRIVATE KEY", or a Proc-Type: 4,ENCRYPTED header) are refused with a message saying how to
     * decrypt them.
     */
    public static PrivateKey privateKey(Path file) throws TlsException {
        List<Pem.Block> blocks = Pem.read(file, "key file");
        refuseEncrypted(file, blocks);
        List<Pem.Block> keys = blocks.stream().filter(PemFiles::isKey).toList();
        if (keys.isEmpty()) {
            throw new TlsException("key file " + file + " holds no private key, only " + labels(blocks)
                    + ": expected a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block");
        }
        if (keys.size() > 1) {
            throw new TlsException("key file " + file + " holds " + keys.size() + " private keys (at lines "
                    + keys.stream().map(k -> String.valueOf(k.line())).collect(Collectors.joining(", "))
                    + "): keep only the one that belongs to the certificate");
        }
        return KeyDecoding.decode(file, keys.getFirst(), curve(blocks));
    }

    private static boolean isKey(Pem.Block block) {
        return KEY_LABELS.contains(block.label());
    }

    private static void refuseEncrypted(Path file, List<Pem.Block> blocks) throws TlsException {
        for (Pem.Block block : blocks) {
            boolean legacy = isKey(block) && block.headers().stream().anyMatch(h -> h.replace(" ", "").equalsIgnoreCase("Proc-Type:4,ENCRYPTED"));
            if (block.label().equals(ENCRYPTED_KEY) || legacy) {
                throw new TlsException("key file " + file + ": " + block.where() + " is encrypted with a passphrase, which the"
                        + " server cannot ask for. Decrypt it (`openssl pkey -in " + file + " -out key.pem`, it prompts for"
                        + " the passphrase) and protect the decrypted file with permissions instead (chmod 600)");
            }
        }
    }

    /** The OID of the file's EC PARAMETERS block (written by `openssl ecparam -genkey`), when it names a curve. */
    private static Optional<byte[]> curve(List<Pem.Block> blocks) {
        return blocks.stream()
                .filter(b -> b.label().equals(EC_PARAMETERS))
                .map(Pem.Block::der)
                .filter(der -> der.length > 0 && der[0] == Der.OBJECT_IDENTIFIER)
                .findFirst();
    }

    private static String labels(List<Pem.Block> blocks) {
        return blocks.stream().map(Pem.Block::label).distinct().collect(Collectors.joining(", "));
    }
}
