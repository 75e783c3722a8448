package org.mllpserver.app;

import org.mllpserver.config.TlsSettings;
import org.mllpserver.events.Events;
import org.mllpserver.mllp.Deadlines;
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
    private final Events events;
    private final java.time.Clock clock;
    private final AtomicReference<TlsMaterial> current;
    private volatile String fingerprint;

    TlsAcceptor(TlsSettings settings, TlsMaterial material) {
        this(settings, material, Events.NONE, java.time.Clock.systemUTC());
    }

    /** As above, telling {@code events} of every reload. */
    TlsAcceptor(TlsSettings settings, TlsMaterial material, Events events, java.time.Clock clock) {
        this.settings = settings;
        this.events = events;
        this.clock = clock;
        this.current = new AtomicReference<>(material);
        this.fingerprint = filesFingerprint();
        LOG.log(INFO, "TLS: {0}; minimum {1}; client certificates {2}", material.describe(), settings.minimum(),
                material.clientCertificateRequired() ? "required" : "not asked for");
    }

    @Override
    public Upgraded upgrade(Socket accepted) throws IOException {
        SSLSocket ssl = current.get().wrap(accepted);
        long timeoutMillis = Math.clamp(settings.handshakeTimeout().toMillis(), 1, Integer.MAX_VALUE);
        ssl.setSoTimeout((int) timeoutMillis);
        // The socket timeout starts again with every byte; a client trickling its handshake must still
        // finish by the deadline, so a watchdog closes the socket when it passes.
        java.util.concurrent.atomic.AtomicBoolean expired = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ScheduledFuture<?> watchdog = Deadlines.after(timeoutMillis, () -> {
            expired.set(true);
            try {
                accepted.close();
            } catch (IOException ignored) {
                // closing a connection that ran out of time
            }
        });
        try {
            ssl.startHandshake();
        } catch (IOException e) {
            if (expired.get() || e instanceof SocketTimeoutException) {
                throw new IOException("no TLS handshake within TLS_HANDSHAKE_TIMEOUT (" + timeoutMillis + " ms)", e);
            }
            throw new IOException(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        } finally {
            watchdog.cancel(false);
        }
        if (expired.get()) throw new IOException("no TLS handshake within TLS_HANDSHAKE_TIMEOUT (" + timeoutMillis + " ms)");
        SSLSession session = ssl.getSession();
        String identity = PeerIdentity.of(session);
        if (!settings.allowed().test(session)) {
            throw new IOException("client certificate " + identity + " is not in TLS_ALLOWED_CLIENTS");
        }
        return new Upgraded(ssl, identity);
    }

    /**
     * Loads the files again; on success new connections use them, on failure the old material
     * stays. Serialized (SIGHUP and TLS_WATCH may ask at once), and the fingerprint is taken
     * before the files are read, so a change during the load is seen by the next watch.
     */
    synchronized boolean reload(String why) {
        String before = filesFingerprint();
        try {
            TlsMaterial next = TlsMaterial.load(settings.certFile(), settings.keyFile(), settings.clientCaFile(), settings.minimum());
            current.set(next);
            fingerprint = before;
            LOG.log(INFO, "TLS reloaded ({0}): {1}; connections already open keep the old certificate", why, next.describe());
            events.tlsReloaded(new Events.TlsReloaded(clock.instant(), true, why));
            return true;
        } catch (TlsException | RuntimeException e) {
            fingerprint = before; // a broken new file is reported once, not every 10 s
            LOG.log(WARNING, "TLS reload ({0}) failed, keeping the current certificate ({1}): {2}", why, current.get().describe(),
                    e.getMessage());
            events.tlsReloaded(new Events.TlsReloaded(clock.instant(), false, why + ": " + e.getMessage()));
            return false;
        }
    }

    /** For TLS_WATCH: reloads when any of the files' contents changed since the last load. Never throws (it runs on a schedule). */
    synchronized void reloadIfChanged() {
        try {
            if (!filesFingerprint().equals(fingerprint)) reload("the files changed");
        } catch (RuntimeException e) {
            LOG.log(WARNING, "TLS_WATCH: checking the files failed: {0}", e.toString());
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
