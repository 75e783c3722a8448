package org.mllpserver.config;

import org.mllpserver.mllp.ListenAddress;
import org.mllpserver.tls.TlsMaterial;
import org.mllpserver.tls.TlsVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import javax.net.ssl.SSLSession;

/**
 * TLS on the MLLP listener, loaded and checked at start (files readable, key matching the
 * certificate, dates valid).
 *
 * @param listenAddress  where TLS listens beside the plain listener; empty = TLS only, on LISTEN_ADDR
 * @param allowed        TLS_ALLOWED_CLIENTS: which client certificates may connect (all when not set)
 * @param material       what was loaded at start; SIGHUP (or TLS_WATCH) loads the files again
 */
public record TlsSettings(Path certFile, Path keyFile, Optional<Path> clientCaFile, TlsVersion minimum,
                          Optional<ListenAddress> listenAddress, Predicate<SSLSession> allowed, boolean watch,
                          Duration handshakeTimeout, TlsMaterial material) {
}
