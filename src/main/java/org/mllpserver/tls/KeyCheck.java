package org.mllpserver.tls;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Instant;
import java.util.List;

/**
 * The checks a certificate and its key pass before they are put to use, so that a wrong file
 * stops the start (or a reload) with a precise message instead of failing every handshake later.
 *
 * <p>The key is matched to the certificate by signing a fixed value with the private key and
 * verifying it with the certificate's public key: one method for every key algorithm, and it
 * proves the pair works exactly as a handshake will use it. Stateless; thread-safe.
 */
final class KeyCheck {

    /** Signed and verified, never sent anywhere. */
    private static final byte[] PROBE = "mllp-server: does this key belong to this certificate?".getBytes(StandardCharsets.US_ASCII);

    private KeyCheck() {}

    /** The key belongs to the first certificate of the chain; if it belongs to a later one, say the order is wrong. */
    static void matchesLeaf(PrivateKey key, Path keyFile, List<X509Certificate> chain, Path certFile) throws TlsException {
        if (matches(key, keyFile, chain.getFirst(), certFile)) return;
        for (int i = 1; i < chain.size(); i++) {
            if (matches(key, keyFile, chain.get(i), certFile)) {
                throw new TlsException("the key in " + keyFile + " belongs to certificate " + (i + 1) + " of " + chain.size()
                        + " in " + certFile + ", not the first: put the server's own certificate first, then its issuers");
            }
        }
        throw new TlsException("the key in " + keyFile + " does not match the certificate in " + certFile + " ("
                + chain.getFirst().getSubjectX500Principal().getName() + "): use the key the certificate was issued for"
                + " (`openssl x509 -in CERT -noout -pubkey` and `openssl pkey -in KEY -pubout` print the same key when they belong together)");
    }

    /** The certificate is valid at {@code now}, else a message with its dates. */
    static void validAt(X509Certificate certificate, Path certFile, Instant now) throws TlsException {
        Instant from = certificate.getNotBefore().toInstant();
        Instant until = certificate.getNotAfter().toInstant();
        String dates = " (valid from " + from + " to " + until + "; it is now " + now + ")";
        String subject = " (" + certificate.getSubjectX500Principal().getName() + ")";
        if (now.isAfter(until)) throw new TlsException("the certificate in " + certFile + subject + " expired on " + until + dates + ": renew it");
        if (now.isBefore(from)) {
            throw new TlsException("the certificate in " + certFile + subject + " is not valid until " + from + dates
                    + ": check this machine's clock, or wait");
        }
    }

    private static boolean matches(PrivateKey key, Path keyFile, X509Certificate certificate, Path certFile) throws TlsException {
        PublicKey publicKey = certificate.getPublicKey();
        if (!family(key.getAlgorithm()).equals(family(publicKey.getAlgorithm()))) return false;
        byte[] signature = sign(key, keyFile);
        try {
            Signature verifier = signature(key);
            verifier.initVerify(publicKey);
            verifier.update(PROBE);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // e.g. an EC signature on another curve than this public key's: not this certificate's key
        }
    }

    private static byte[] sign(PrivateKey key, Path keyFile) throws TlsException {
        try {
            Signature signer = signature(key);
            signer.initSign(key);
            signer.update(PROBE);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new TlsException("the key in " + keyFile + " cannot sign (" + e.getClass().getSimpleName() + "): it cannot serve TLS", e);
        }
    }

    /** Ed25519 and Ed448 keys report "EdDSA" or their own name depending on how they were made. */
    private static String family(String algorithm) {
        return switch (algorithm) {
            case "Ed25519", "Ed448" -> "EdDSA";
            default -> algorithm;
        };
    }

    /** A signature this key can make; verifying with the same algorithm and parameters. */
    private static Signature signature(PrivateKey key) throws GeneralSecurityException {
        return switch (family(key.getAlgorithm())) {
            case "RSA" -> Signature.getInstance("SHA256withRSA");
            case "EC" -> Signature.getInstance("SHA256withECDSA");
            case "EdDSA" -> Signature.getInstance("EdDSA");
            case "RSASSA-PSS" -> pss(key);
            default -> throw new GeneralSecurityException("no signature for " + key.getAlgorithm() + " keys");
        };
    }

    /** A PSS key may be restricted to its own parameters; otherwise SHA-256 with MGF1-SHA-256, as TLS uses. */
    private static Signature pss(PrivateKey key) throws GeneralSecurityException {
        Signature pss = Signature.getInstance("RSASSA-PSS");
        if (key instanceof RSAKey rsa && rsa.getParams() instanceof PSSParameterSpec own) {
            pss.setParameter(own);
        } else {
            pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, PSSParameterSpec.TRAILER_FIELD_BC));
        }
        return pss;
    }
}
