package org.mllpserver.tls;

/**
 * A problem with TLS files or settings, found when they are loaded (at start or on a reload).
 * The message names the file, says what is wrong and what to do about it, and is fit for an
 * operator's log: it never includes key material. Thrown by loading only, never during a
 * connection, so the caller decides once: refuse to start, or keep the old material on a reload.
 */
public final class TlsException extends Exception {

    public TlsException(String message) {
        super(message);
    }

    public TlsException(String message, Throwable cause) {
        super(message, cause);
    }
}
