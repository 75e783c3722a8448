package org.mllpserver.mllp;

import java.net.SocketAddress;

/** The sending side of one connection, as the layers above the listener see it. */
public record Peer(long connectionId, SocketAddress remoteAddress) {

    @Override
    public String toString() {
        return "connection " + connectionId + " from " + remoteAddress;
    }
}
