package org.mllpserver.mllp;

import java.net.SocketAddress;

/**
 * The sending side of one connection, as the layers above the listener see it.
 *
 * @param tlsIdentity the client certificate's subject and SANs ("" on plain connections and TLS
 *                    without client authentication); stored with each message for the audit trail
 */
public record Peer(long connectionId, SocketAddress remoteAddress, String tlsIdentity) {

    public Peer(long connectionId, SocketAddress remoteAddress) {
        this(connectionId, remoteAddress, "");
    }

    @Override
    public String toString() {
        return "connection " + connectionId + " from " + remoteAddress;
    }
}
