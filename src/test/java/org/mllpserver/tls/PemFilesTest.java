package org.mllpserver.tls;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mllpserver.testing.TestPki;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** PEM and key decoding over the files openssl writes, and over damaged ones. */
class PemFilesTest {

    @TempDir
    static Path pkiDir;
    static TestPki pki;

    @TempDir
    Path scratch;

    @BeforeAll
    static void makePki() throws Exception {
        pki = TestPki.create(pkiDir);
    }

    @Test
    void aChainIsReadLeafFirst() throws Exception {
        List<X509Certificate> chain = PemFiles.certificates(pki.serverChain());
        assertEquals(2, chain.size());
        assertEquals("CN=localhost", chain.get(0).getSubjectX500Principal().getName());
        assertEquals("CN=Test CA,O=mllp-server tests", chain.get(1).getSubjectX500Principal().getName());
    }

    /** A key form openssl writes, the certificate it belongs to, and the algorithm the JDK reports. */
    record KeyForm(String name, Function<TestPki, Path> cert, Function<TestPki, Path> key, String algorithm) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<KeyForm> keyForms() {
        return Stream.of(
                new KeyForm("PKCS#8 RSA", TestPki::serverCert, TestPki::serverKey, "RSA"),
                new KeyForm("PKCS#1 RSA", TestPki::serverCert, TestPki::serverKeyPkcs1, "RSA"),
                new KeyForm("PKCS#8 EC", TestPki::ecServerCert, TestPki::ecServerKey, "EC"),
                new KeyForm("SEC1 EC", TestPki::ecServerCert, TestPki::ecServerKeySec1, "EC"),
                new KeyForm("PKCS#8 Ed25519", TestPki::ed25519Cert, TestPki::ed25519Key, "EdDSA"),
                new KeyForm("PKCS#8 RSASSA-PSS", TestPki::rsaPssCert, TestPki::rsaPssKey, "RSASSA-PSS"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keyForms")
    void eachKeyFormLoadsAndMatchesItsCertificate(KeyForm form) throws Exception {
        PrivateKey loaded = PemFiles.privateKey(form.key().apply(pki));
        assertEquals(form.algorithm(), loaded.getAlgorithm(), form.name());
        TlsMaterial material = TlsMaterial.load(form.cert().apply(pki), form.key().apply(pki), Optional.empty(), TlsVersion.TLS_1_2);
        assertTrue(material.describe().startsWith("subject=CN=localhost;"), material.describe());
    }

    @Test
    void filesThatAreNotWhatTheyShouldBeAreRefusedNamingTheFile() throws Exception {
        Path empty = write("empty.pem", "");
        assertRefused(() -> PemFiles.certificates(empty), empty, "is empty");
        Path garbage = write("garbage.pem", "this is not a certificate\n");
        assertRefused(() -> PemFiles.certificates(garbage), garbage, "holds no PEM block");
        assertRefused(() -> PemFiles.privateKey(garbage), garbage, "holds no PEM block");
        assertRefused(() -> PemFiles.certificates(pki.serverKey()), pki.serverKey(), "holds no CERTIFICATE block, only PRIVATE KEY: is it the key file?");
        assertRefused(() -> PemFiles.privateKey(pki.serverCert()), pki.serverCert(), "holds no private key, only CERTIFICATE");
        Path missing = scratch.resolve("missing.pem");
        assertRefused(() -> PemFiles.certificates(missing), missing, "does not exist");
        assertRefused(() -> PemFiles.certificates(scratch), scratch, "cannot be read");
    }

    @Test
    void damagedPemIsRefusedWithWhereAndWhy() throws Exception {
        String good = Files.readString(pki.serverCert());
        Path der = scratch.resolve("server.der");
        Files.write(der, Pem.read(pki.serverCert(), "test").getFirst().der());
        assertRefused(() -> PemFiles.certificates(der), der, "looks like binary DER");
        Path truncated = write("truncated.pem", good.substring(0, good.length() / 2));
        assertRefused(() -> PemFiles.certificates(truncated), truncated, "the CERTIFICATE block at line 1 has no -----END CERTIFICATE----- line");
        Path badBase64 = write("bad-base64.pem", good.replaceFirst("\n[A-Za-z0-9+/]", "\n*"));
        assertRefused(() -> PemFiles.certificates(badBase64), badBase64, "is not valid base64");
        Path notACertificate = write("not-a-cert.pem", pem("CERTIFICATE", new byte[] {0x30, 0x03, 0x02, 0x01, 0x00}));
        assertRefused(() -> PemFiles.certificates(notACertificate), notACertificate, "is not a valid X.509 certificate");
        Path twoKeys = write("two-keys.pem", Files.readString(pki.serverKey()) + Files.readString(pki.clientKey()));
        assertRefused(() -> PemFiles.privateKey(twoKeys), twoKeys, "holds 2 private keys");
    }

    @Test
    void encryptedKeysAreRefusedSayingHowToDecryptThem() {
        for (Path encrypted : List.of(pki.serverKeyEncrypted(), pki.serverKeyEncryptedLegacy())) {
            assertRefused(() -> PemFiles.privateKey(encrypted), encrypted, "is encrypted with a passphrase");
            assertRefused(() -> PemFiles.privateKey(encrypted), encrypted, "openssl pkey -in " + encrypted);
        }
    }

    @Test
    void aKeyThatDoesNotMatchTheCertificateIsRefused() throws Exception {
        assertRefused(() -> TlsMaterial.load(pki.serverCert(), pki.clientKey(), Optional.empty(), TlsVersion.TLS_1_2), pki.serverCert(),
                "the key in " + pki.clientKey() + " does not match the certificate in " + pki.serverCert());
        assertRefused(() -> TlsMaterial.load(pki.serverCert(), pki.ecServerKey(), Optional.empty(), TlsVersion.TLS_1_2), pki.serverCert(),
                "the key in " + pki.ecServerKey() + " does not match the certificate in " + pki.serverCert());
        Path caFirst = write("ca-first.pem", Files.readString(pki.caCert()) + Files.readString(pki.serverCert()));
        assertRefused(() -> TlsMaterial.load(caFirst, pki.serverKey(), Optional.empty(), TlsVersion.TLS_1_2), caFirst,
                "belongs to certificate 2 of 2 in " + caFirst + ", not the first");
    }

    @Test
    void crlfLineEndsAndTextAroundBlocksAreRead() throws Exception {
        String around = "Bag Attributes\n    localKeyID: 01 02 03\nsubject=/CN=localhost\n";
        Path cert = write("crlf.pem", (around + Files.readString(pki.serverChain()) + "trailing words\n").replace("\n", "\r\n"));
        Path key = write("crlf.key", (around + Files.readString(pki.serverKeyPkcs1()) + "\n\n").replace("\n", "\r\n"));
        assertEquals(2, PemFiles.certificates(cert).size());
        TlsMaterial.load(cert, key, Optional.empty(), TlsVersion.TLS_1_2);
    }

    @Test
    void aSec1KeyWithoutItsCurveIsRefusedUnlessTheFileNamesTheCurve() throws Exception {
        List<Der.Element> sec1 = Der.single(Pem.read(pki.ecServerKeySec1(), "test").getFirst().der()).children();
        byte[] withoutCurve = Der.encode(Der.SEQUENCE, sec1.stream()
                .filter(e -> e.tag() != Der.CONTEXT_0)
                .map(e -> Der.encode(e.tag(), e.value()))
                .toArray(byte[][]::new));
        Path bare = write("bare-sec1.key", pem("EC PRIVATE KEY", withoutCurve));
        assertRefused(() -> PemFiles.privateKey(bare), bare, "has no curve parameters, and the file has no EC PARAMETERS block");
        Path withParameters = write("ecparam.key", pem("EC PARAMETERS", Der.oid("1.2.840.10045.3.1.7")) + pem("EC PRIVATE KEY", withoutCurve));
        TlsMaterial.load(pki.ecServerCert(), withParameters, Optional.empty(), TlsVersion.TLS_1_2);
    }

    /** Every prefix of every key form is a damaged file: a TlsException, never another exception or a key. */
    @Test
    void aKeyTruncatedAtAnyByteIsRefused() throws Exception {
        Path file = scratch.resolve("truncated.key");
        for (Path key : List.of(pki.serverKey(), pki.serverKeyPkcs1(), pki.ecServerKeySec1(), pki.ed25519Key())) {
            Pem.Block block = Pem.read(key, "test").getFirst();
            for (int length = 0; length < block.der().length; length++) {
                Files.writeString(file, pem(block.label(), Arrays.copyOf(block.der(), length)));
                int at = length;
                assertThrows(TlsException.class, () -> PemFiles.privateKey(file), () -> key + " cut at " + at + " was accepted");
            }
        }
    }

    /** A flipped bit may leave a usable (wrong) key; what it must not do is escape as anything but a TlsException. */
    @Test
    void aKeyWithAFlippedBitLoadsOrIsRefusedButNeverThrowsAnythingElse() throws Exception {
        Path file = scratch.resolve("flipped.key");
        for (Path key : List.of(pki.serverKeyPkcs1(), pki.ecServerKeySec1(), pki.ed25519Key(), pki.ecServerKey())) {
            Pem.Block block = Pem.read(key, "test").getFirst();
            int bytes = Math.min(block.der().length, 64); // past the first 64 bytes an RSA key is all modulus
            for (int bit = 0; bit < bytes * 8; bit++) {
                byte[] flipped = block.der().clone();
                flipped[bit / 8] ^= (byte) (1 << (bit % 8));
                Files.writeString(file, pem(block.label(), flipped));
                try {
                    PemFiles.privateKey(file);
                } catch (TlsException expected) {
                    assertTrue(expected.getMessage().contains(file.toString()), expected.getMessage());
                } catch (RuntimeException e) {
                    fail(key + " with bit " + bit + " flipped threw " + e, e);
                }
            }
        }
    }

    @Test
    void objectIdentifiersRoundTrip() throws Exception {
        for (String oid : List.of("1.2.840.10045.3.1.7", "1.3.101.112", "2.999.1234", "1.2.840.113549.1.1.1", "0.0")) {
            assertEquals(oid, Der.oidText(Der.single(Der.oid(oid)).expect(Der.OBJECT_IDENTIFIER).value()));
        }
        assertEquals("06082a8648ce3d030107", HexFormat.of().formatHex(Der.oid("1.2.840.10045.3.1.7")));
    }

    @Test
    void longLengthsEncodeAndDecode() throws Exception {
        for (int size : List.of(0, 127, 128, 255, 256, 65_535, 65_536)) {
            byte[] encoded = Der.encode(Der.OCTET_STRING, new byte[size]);
            assertEquals(size, Der.single(encoded).expect(Der.OCTET_STRING).value().length);
        }
        assertThrows(Der.Malformed.class, () -> Der.single(new byte[] {0x30, (byte) 0x80, 0, 0}), "indefinite length");
        assertThrows(Der.Malformed.class, () -> Der.single(new byte[] {0x04, (byte) 0x82, 0x01}), "truncated length");
    }

    private interface Load {
        void run() throws Exception;
    }

    private static void assertRefused(Load load, Path file, String says) {
        TlsException e = assertThrows(TlsException.class, load::run);
        assertTrue(e.getMessage().contains(file.toString()), () -> "does not name " + file + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(says), () -> "does not say '" + says + "': " + e.getMessage());
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(scratch.resolve(name), text, StandardCharsets.ISO_8859_1);
    }

    static String pem(String label, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + body + (body.isEmpty() ? "" : "\n") + "-----END " + label + "-----\n";
    }
}
