package org.mllpserver.app;

import org.mllpserver.config.TlsSettings;
import org.mllpserver.mllp.SocketUpgrade;
import org.mllpserver.tls.PeerIdentity;
import org.mllpserver.tls.TlsException;
import org.mllpserver.tls.TlsMaterial;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The TLS step of a listener: wraps each accepted socket with the current material, completes
 * the handshake within TLS_HANDSHAKE_TIMEOUT on the connection's own thread, and checks the
 * client against TLS_ALLOWED_CLIENTS.
 *
 * <p><b>Rotation.</b> {@link #reload} (SIGHUP, or TLS_WATCH noticing the files changed) loads the
 * files again; new connections get the new material, connections already open keep theirs
 * (their SSLSocket holds its own session). A reload that fails (a bad file, a key that does not
 * match) keeps the old material and logs why. Thread-safe.
 */
final class TlsAcceptor implements SocketUpgrade {

    private static final System.Logger LOG = System.getLogger(TlsAcceptor.class.getName());

    private final TlsSettings settings;
    private final AtomicReference<TlsMaterial> current;
    private volatile String fingerprint;

    TlsAcceptor(TlsSettings settings) {
        this.settings = settings;
        this.current = new AtomicReference<>(settings.material());
        this.fingerprint = filesFingerprint();
        LOG.log(INFO, "TLS: {0}; minimum {1}; client certificates {2}", settings.material().describe(), settings.minimum(),
                settings.material().clientCertificateRequired() ? "required" : "not asked for");
    }

    @Override
    public Upgraded upgrade(Socket accepted) throws IOException {
        SSLSocket ssl = current.get().wrap(accepted);
        ssl.setSoTimeout((int) Math.clamp(settings.handshakeTimeout().toMillis(), 1, Integer.MAX_VALUE));
        try {
            ssl.startHandshake();
        } catch (SocketTimeoutException e) {
            throw new IOException("no TLS handshake within TLS_HANDSHAKE_TIMEOUT (" + settings.handshakeTimeout().toMillis() + " ms)", e);
        } catch (SSLException e) {
            throw new IOException(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        }
        SSLSession session = ssl.getSession();
        String identity = PeerIdentity.of(session);
        if (!settings.allowed().test(session)) {
            throw new IOException("client certificate " + identity + " is not in TLS_ALLOWED_CLIENTS");
        }
        return new Upgraded(ssl, identity);
    }

    /** Loads the files again; on success new connections use them, on failure the old material stays. */
    boolean reload(String why) {
        try {
            TlsMaterial next = TlsMaterial.load(settings.certFile(), settings.keyFile(), settings.clientCaFile(), settings.minimum());
            current.set(next);
            fingerprint = filesFingerprint();
            LOG.log(INFO, "TLS reloaded ({0}): {1}; connections already open keep the old certificate", why, next.describe());
            return true;
        } catch (TlsException e) {
            LOG.log(WARNING, "TLS reload ({0}) failed, keeping the current certificate ({1}): {2}", why, current.get().describe(),
                    e.getMessage());
            return false;
        }
    }

    /** For TLS_WATCH: reloads when any of the files' contents changed since the last load. */
    void reloadIfChanged() {
        String now = filesFingerprint();
        if (!now.equals(fingerprint)) {
            fingerprint = now; // a broken new file is reported once, not every 10 s
            reload("the files changed");
        }
    }

    TlsMaterial material() {
        return current.get();
    }

    /** SHA-256 over the files' contents (a Kubernetes secret update swaps a symlink: contents are what count). */
    private String filesFingerprint() {
        List<Path> files = new ArrayList<>(List.of(settings.certFile(), settings.keyFile()));
        settings.clientCaFile().ifPresent(files::add);
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path file : files) {
                try {
                    sha.update(Files.readAllBytes(file));
                } catch (NoSuchFileException e) {
                    sha.update((byte) 0);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException | UncheckedIOException e) {
            return "unreadable: " + e.getMessage();
        }
    }
}
