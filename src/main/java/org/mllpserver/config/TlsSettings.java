package org.mllpserver.config;

import org.mllpserver.mllp.ListenAddress;
import org.mllpserver.tls.TlsVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import javax.net.ssl.SSLSession;

/**
 * TLS on the MLLP listener, as configured; the files are loaded and checked (readable, key
 * matching the certificate, dates valid) when the configuration is prepared
 * ({@link ConfigLoader#prepare}), and again on SIGHUP or TLS_WATCH.
 *
 * @param listenAddress  where TLS listens beside the plain listener; empty = TLS only, on LISTEN_ADDR
 * @param allowed        TLS_ALLOWED_CLIENTS: which client certificates may connect (all when not set)
 */
public record TlsSettings(Path certFile, Path keyFile, Optional<Path> clientCaFile, TlsVersion minimum,
                          Optional<ListenAddress> listenAddress, Predicate<SSLSession> allowed, boolean watch,
                          Duration handshakeTimeout) {
}
