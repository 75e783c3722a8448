package org.mllpserver.journal;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * A MESSAGE record: an accepted message exactly as received, and what the server knew about it.
 * The raw bytes come last in the body, so a reader that wants only the metadata can stop early.
 *
 * @param id                stable record id (UUIDv7): the id deliveries carry, so downstreams can drop repeats
 * @param peer              the sender's address
 * @param tlsIdentity       the client certificate's subject and SANs when TLS is used; empty otherwise
 * @param sendingApplication MSH-3, raw
 * @param sendingFacility   MSH-4, raw
 * @param messageType       MSH-9, raw
 * @param controlId         MSH-10, raw
 * @param charset           the Java charset the message was decoded with
 * @param connectors        the connectors the message is addressed to (decided once, before the write)
 * @param raw               the frame's payload, byte for byte
 */
public record StoredMessage(UUID id, Instant receivedAt, String peer, String tlsIdentity, String sendingApplication,
                            String sendingFacility, String messageType, String controlId, String charset,
                            List<String> connectors, byte[] raw) {

    private static final int VERSION = 1;

    public StoredMessage {
        receivedAt = receivedAt.truncatedTo(java.time.temporal.ChronoUnit.MILLIS); // what the record keeps
        connectors = List.copyOf(connectors);
    }

    public byte[] encode() {
        return new Body.Writer(256 + raw.length).version(VERSION).uuid(id).time(receivedAt).string(peer).string(tlsIdentity)
                .string(sendingApplication).string(sendingFacility).string(messageType).string(controlId).string(charset)
                .strings(connectors).bytes(raw).toByteArray();
    }

    public static StoredMessage decode(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        if (version != VERSION) throw new IllegalArgumentException("MESSAGE body version " + version + " is not known");
        return new StoredMessage(in.uuid(), in.time(), in.string(), in.string(), in.string(), in.string(), in.string(),
                in.string(), in.string(), in.strings(), in.bytes());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredMessage m && id.equals(m.id) && receivedAt.equals(m.receivedAt) && peer.equals(m.peer)
                && tlsIdentity.equals(m.tlsIdentity) && sendingApplication.equals(m.sendingApplication)
                && sendingFacility.equals(m.sendingFacility) && messageType.equals(m.messageType)
                && controlId.equals(m.controlId) && charset.equals(m.charset) && connectors.equals(m.connectors)
                && Arrays.equals(raw, m.raw);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return "StoredMessage[" + id + ", " + messageType + ", " + controlId + ", " + raw.length + " bytes]";
    }
}
