package org.mllpserver.mllp;

import java.io.IOException;
import java.net.Socket;

/**
 * What a listener does with an accepted socket before it reads frames: nothing (plain MLLP), or a
 * TLS handshake with its checks. Runs on the connection's own virtual thread, so a slow handshake
 * holds up no one else; it must bound its own time (a handshake timeout).
 */
@FunctionalInterface
public interface SocketUpgrade {

    /** The socket to read frames from, and who the peer is ("" without a client certificate). */
    record Upgraded(Socket socket, String identity) {}

    /** Throws when the connection must be closed (a failed or refused handshake); the message says why. */
    Upgraded upgrade(Socket accepted) throws IOException;

    SocketUpgrade PLAIN = socket -> new Upgraded(socket, "");
}
