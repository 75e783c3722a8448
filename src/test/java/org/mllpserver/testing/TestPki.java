package org.mllpserver.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway PKI for TLS tests, made by the {@code openssl} command in a directory the test owns
 * (no private key is ever committed). Made once per test class, in a static {@code @TempDir}: it
 * takes well under two seconds. When openssl is not installed the calling test is aborted (not
 * failed) with the reason.
 *
 * <p>What it makes, all RSA 2048 unless said otherwise, valid from now for two days:
 * <ul>
 * <li>"Test CA" and, signed by it: a server certificate for localhost (SAN DNS:localhost,
 *     IP:127.0.0.1) with its key in PKCS#8, PKCS#1 and two encrypted forms; a client certificate
 *     "CN=lab-analyser,O=Test Hospital" (SAN DNS:lab1.test); an EC P-256 server certificate with
 *     its key in PKCS#8 and SEC1; Ed25519 and RSASSA-PSS server certificates; the server key's certificate
 *     expired (2020) and not yet valid (2040), made with {@code openssl ca}, since {@code openssl
 *     x509} 3.0 cannot set dates.</li>
 * <li>"Other CA", independent, and a client certificate signed by it.</li>
 * </ul>
 */
public final class TestPki {

    /** One openssl call takes milliseconds; RSA key generation at most a few hundred. */
    private static final long COMMAND_TIMEOUT_SECONDS = 30;
    /** Not a secret: it encrypts test keys that exist to be refused. */
    public static final String TEST_PASSPHRASE = "test-only";

    private static final String EXTENSIONS = """
            [req]
            distinguished_name = dn
            [dn]
            [ca]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            [server]
            basicConstraints = CA:FALSE
            subjectAltName = DNS:localhost,IP:127.0.0.1
            [client]
            basicConstraints = CA:FALSE
            subjectAltName = DNS:lab1.test
            """;
    /** The least {@code openssl ca} needs: a database, a serial file, a policy. */
    private static final String CA_CONFIG = """
            [ca]
            default_ca = test
            [test]
            database = ca-db/index.txt
            new_certs_dir = ca-db
            serial = ca-db/serial
            default_md = sha256
            policy = anything
            unique_subject = no
            [anything]
            commonName = supplied
            """;

    private final Path dir;
    private int serial = 1000;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** Makes every file in {@code dir}; aborts the test when openssl is missing. */
    public static TestPki create(Path dir) throws IOException, InterruptedException {
        Assumptions.assumeTrue(openssl() != null,
                "openssl is not installed: the TLS tests make their certificates with it (apt-get install openssl)");
        TestPki pki = new TestPki(dir);
        Files.writeString(dir.resolve("ext.cnf"), EXTENSIONS);
        pki.makeCas();
        pki.makeServers();
        pki.makeClients();
        pki.makeBadFiles();
        return pki;
    }

    /** The openssl executable on the PATH, or null. */
    public static Path openssl() {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        return Arrays.stream(path.split(File.pathSeparator))
                .map(d -> Path.of(d, "openssl"))
                .filter(Files::isExecutable)
                .findFirst().orElse(null);
    }

    public Path dir() { return dir; }
    public Path caCert() { return file("ca.pem"); }
    public Path otherCaCert() { return file("other-ca.pem"); }
    /** The localhost server certificate alone. */
    public Path serverCert() { return file("server.pem"); }
    /** The localhost server certificate, then Test CA. */
    public Path serverChain() { return file("server-chain.pem"); }
    public Path serverKey() { return file("server.key"); }
    public Path serverKeyPkcs1() { return file("server-pkcs1.key"); }
    /** The server key as "ENCRYPTED PRIVATE KEY" (PKCS#8, AES-256). */
    public Path serverKeyEncrypted() { return file("server-encrypted.key"); }
    /** The server key as "RSA PRIVATE KEY" with Proc-Type: 4,ENCRYPTED (OpenSSL's legacy form). */
    public Path serverKeyEncryptedLegacy() { return file("server-encrypted-legacy.key"); }
    public Path ecServerCert() { return file("ec-server.pem"); }
    public Path ecServerKey() { return file("ec-server.key"); }
    public Path ecServerKeySec1() { return file("ec-server-sec1.key"); }
    public Path ed25519Cert() { return file("ed25519.pem"); }
    public Path ed25519Key() { return file("ed25519.key"); }
    /** An RSASSA-PSS key (PKCS#8 OID 1.2.840.113549.1.1.10, usable only for PSS signatures) and its certificate. */
    public Path rsaPssCert() { return file("rsa-pss.pem"); }
    public Path rsaPssKey() { return file("rsa-pss.key"); }
    /** The server key's certificate, valid 2020-01-01 to 2021-01-01. */
    public Path expiredCert() { return file("expired.pem"); }
    /** The server key's certificate, valid from 2040-01-01. */
    public Path notYetValidCert() { return file("not-yet-valid.pem"); }
    public Path clientCert() { return file("client.pem"); }
    public Path clientKey() { return file("client.key"); }
    /** "CN=lab-analyser,O=Other Hospital", signed by Other CA. */
    public Path otherClientCert() { return file("other-client.pem"); }
    public Path otherClientKey() { return file("other-client.key"); }

    private Path file(String name) {
        return dir.resolve(name);
    }

    private void makeCas() throws IOException, InterruptedException {
        for (String ca : List.of("ca", "other-ca")) {
            String name = ca.equals("ca") ? "Test CA" : "Other CA";
            rsaKey(ca + ".key");
            run("req", "-x509", "-new", "-key", ca + ".key", "-subj", "/O=mllp-server tests/CN=" + name, "-days", "2",
                    "-config", "ext.cnf", "-extensions", "ca", "-out", ca + ".pem");
        }
    }

    private void makeServers() throws IOException, InterruptedException {
        rsaKey("server.key");
        sign("server", "/CN=localhost", "ca", "server");
        Files.writeString(serverChain(), Files.readString(serverCert()) + Files.readString(caCert()));
        run("rsa", "-in", "server.key", "-traditional", "-out", "server-pkcs1.key");
        run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec-server.key");
        sign("ec-server", "/CN=localhost", "ca", "server");
        run("ec", "-in", "ec-server.key", "-out", "ec-server-sec1.key");
        run("genpkey", "-algorithm", "ed25519", "-out", "ed25519.key");
        sign("ed25519", "/CN=localhost", "ca", "server");
        run("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa-pss.key");
        sign("rsa-pss", "/CN=localhost", "ca", "server");
    }

    private void makeClients() throws IOException, InterruptedException {
        rsaKey("client.key");
        sign("client", "/O=Test Hospital/CN=lab-analyser", "ca", "client");
        rsaKey("other-client.key");
        sign("other-client", "/O=Other Hospital/CN=lab-analyser", "other-ca", "client");
    }

    /** Encrypted keys, and certificates outside their validity, for the server key. */
    private void makeBadFiles() throws IOException, InterruptedException {
        String pass = "pass:" + TEST_PASSPHRASE;
        run("pkcs8", "-topk8", "-in", "server.key", "-v2", "aes-256-cbc", "-passout", pass, "-out", "server-encrypted.key");
        run("rsa", "-in", "server.key", "-aes256", "-traditional", "-passout", pass, "-out", "server-encrypted-legacy.key");
        Files.createDirectories(file("ca-db"));
        Files.writeString(file("ca-db/index.txt"), "");
        Files.writeString(file("ca-db/serial"), "2000\n");
        Files.writeString(file("ca.cnf"), CA_CONFIG);
        caSign("expired.pem", "20200101000000Z", "20210101000000Z");
        caSign("not-yet-valid.pem", "20400101000000Z", "20410101000000Z");
    }

    private void caSign(String out, String start, String end) throws IOException, InterruptedException {
        run("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "server.csr",
                "-extfile", "ext.cnf", "-extensions", "server", "-startdate", start, "-enddate", end, "-notext", "-out", out);
    }

    private void rsaKey(String name) throws IOException, InterruptedException {
        run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name);
    }

    /** NAME.csr from NAME.key, then NAME.pem signed by ISSUER with the extensions of SECTION. */
    private void sign(String name, String subject, String issuer, String section) throws IOException, InterruptedException {
        run("req", "-new", "-key", name + ".key", "-subj", subject, "-out", name + ".csr");
        run("x509", "-req", "-in", name + ".csr", "-CA", issuer + ".pem", "-CAkey", issuer + ".key",
                "-set_serial", String.valueOf(serial++), "-days", "2", "-sha256",
                "-extfile", "ext.cnf", "-extensions", section, "-out", name + ".pem");
    }

    /** How an openssl command ended: its exit code and its output (stdout and stderr together). */
    public record Completed(int exit, String output) {}

    /** Runs openssl in the directory, bounded; fails with its output when it fails. */
    public String run(String... arguments) throws IOException, InterruptedException {
        Completed completed = runAllowingFailure(arguments);
        if (completed.exit() != 0) {
            throw new IOException("openssl " + String.join(" ", arguments) + " failed (" + completed.exit() + "):\n" + completed.output());
        }
        return completed.output();
    }

    /** Runs openssl in the directory with empty input, bounded by a timeout; an exit code other than 0 is returned, not thrown. */
    public Completed runAllowingFailure(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(openssl().toString()));
        command.addAll(List.of(arguments));
        Path log = Files.createTempFile(dir, "openssl-", ".log");
        Process process = new ProcessBuilder(command).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within " + COMMAND_TIMEOUT_SECONDS + " s");
        }
        String output = Files.readString(log, StandardCharsets.ISO_8859_1);
        Files.delete(log);
        return new Completed(process.exitValue(), output);
    }
}
