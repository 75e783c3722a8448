package org.mllpserver.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Private key blocks to JDK keys. PKCS#8 ("PRIVATE KEY") goes to the {@code KeyFactory} its
 * algorithm OID names; PKCS#1 ("RSA PRIVATE KEY") and SEC1 ("EC PRIVATE KEY") are first wrapped
 * in a PKCS#8 envelope, which is all that separates them from what the JDK reads.
 *
 * <p>Limits: RSA, RSASSA-PSS, EC on the curves the JDK supports (P-256, P-384, P-521), Ed25519 and
 * Ed448. SEC1 keys need a named curve, in the key or in an "EC PARAMETERS" block of the same file;
 * explicit curve parameters are refused. Messages name the file and block and never include key
 * bytes. Stateless; thread-safe.
 */
final class KeyDecoding {

    private static final String RSA = "1.2.840.113549.1.1.1";
    private static final String EC = "1.2.840.10045.2.1";
    /** PKCS#8 algorithm OID to the JDK's KeyFactory name. */
    private static final Map<String, String> KEY_FACTORIES = Map.of(
            RSA, "RSA",
            "1.2.840.113549.1.1.10", "RSASSA-PSS",
            EC, "EC",
            "1.3.101.112", "Ed25519",
            "1.3.101.113", "Ed448");
    /** PKCS#8 version 0 (RFC 5208); the optional attributes and public key are not needed. */
    private static final byte[] VERSION_0 = Der.encode(Der.INTEGER, new byte[] {0});

    private KeyDecoding() {}

    /**
     * The key in {@code block}, one of "PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY";
     * {@code curve} is the OID element of the file's "EC PARAMETERS" block, if it has one.
     */
    static PrivateKey decode(Path file, Pem.Block block, Optional<byte[]> curve) throws TlsException {
        try {
            byte[] pkcs8 = switch (block.label()) {
                case "PRIVATE KEY" -> block.der();
                case "RSA PRIVATE KEY" -> pkcs8(Der.encode(Der.SEQUENCE, Der.oid(RSA), Der.encode(Der.NULL)), block.der());
                case "EC PRIVATE KEY" -> pkcs8(Der.encode(Der.SEQUENCE, Der.oid(EC), sec1Curve(file, block, curve)), block.der());
                default -> throw new IllegalArgumentException("not a private key block: " + block.label());
            };
            return generate(file, block, pkcs8);
        } catch (Der.Malformed e) {
            throw new TlsException("key file " + file + ": " + block.where() + " is not a valid key (" + e.getMessage() + "): the file is damaged", e);
        }
    }

    private static byte[] pkcs8(byte[] algorithm, byte[] privateKey) {
        return Der.encode(Der.SEQUENCE, VERSION_0, algorithm, Der.encode(Der.OCTET_STRING, privateKey));
    }

    private static PrivateKey generate(Path file, Pem.Block block, byte[] pkcs8) throws TlsException, Der.Malformed {
        String oid = algorithmOid(pkcs8);
        String algorithm = KEY_FACTORIES.get(oid);
        if (algorithm == null) {
            throw new TlsException("key file " + file + ": " + block.where() + " is a key of algorithm " + oid
                    + ", which TLS here does not use: use an RSA, EC (P-256, P-384, P-521) or Ed25519 key");
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException | RuntimeException e) { // RuntimeException: providers throw those on hostile bytes too
            throw new TlsException("key file " + file + ": " + block.where() + " is not a valid " + algorithm + " key ("
                    + e.getClass().getSimpleName() + "): the file is damaged, or the curve is one the JDK does not support", e);
        }
    }

    /** PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier ::= SEQUENCE { OID, params }, OCTET STRING, ... } */
    private static String algorithmOid(byte[] pkcs8) throws Der.Malformed {
        List<Der.Element> info = Der.single(pkcs8).expect(Der.SEQUENCE).children();
        if (info.size() < 3) throw new Der.Malformed("a PKCS#8 key of " + info.size() + " elements");
        List<Der.Element> algorithm = info.get(1).expect(Der.SEQUENCE).children();
        if (algorithm.isEmpty()) throw new Der.Malformed("an empty algorithm identifier");
        return Der.oidText(algorithm.getFirst().expect(Der.OBJECT_IDENTIFIER).value());
    }

    /**
     * The named curve of a SEC1 key (RFC 5915: SEQUENCE { version, privateKey, [0] parameters
     * OPTIONAL, [1] publicKey OPTIONAL }) as a whole OID element, else the file's EC PARAMETERS.
     */
    private static byte[] sec1Curve(Path file, Pem.Block block, Optional<byte[]> fileCurve) throws TlsException, Der.Malformed {
        for (Der.Element element : Der.single(block.der()).expect(Der.SEQUENCE).children()) {
            if (element.tag() == Der.CONTEXT_0) return namedCurve(file, block, element.value());
        }
        return fileCurve.orElseThrow(() -> new TlsException("key file " + file + ": " + block.where()
                + " has no curve parameters, and the file has no EC PARAMETERS block: the key's curve is unknown."
                + " Export the key again with its curve, e.g. `openssl pkey -in ORIGINAL -out key.pem` (PKCS#8)"));
    }

    private static byte[] namedCurve(Path file, Pem.Block block, byte[] parameters) throws TlsException, Der.Malformed {
        Der.Element curve = Der.single(parameters);
        if (curve.tag() == Der.OBJECT_IDENTIFIER) return parameters;
        throw new TlsException("key file " + file + ": " + block.where() + " spells its curve out as explicit parameters;"
                + " only named curves are supported: convert it with `openssl ec -in FILE -param_enc named_curve -out key.pem`");
    }
}
