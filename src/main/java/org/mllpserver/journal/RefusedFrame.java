package org.mllpserver.journal;

import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * A REFUSED_FRAME record: a frame the intake answered with AE (unparseable, unsupported, internal
 * error), kept raw with the reason, so nothing a sender gave us is lost. These are the intake's
 * dead letters.
 *
 * @param controlId MSH-10 when it could be read; empty otherwise
 * @param reason    what the ERR segment said (never message content)
 * @param raw       the payload as received (only the first MAX_FRAME_SIZE bytes of an oversize frame)
 */
public record RefusedFrame(UUID id, Instant receivedAt, String peer, String tlsIdentity, String controlId, String reason,
                           byte[] raw) {

    private static final int VERSION = 1;

    public RefusedFrame {
        receivedAt = receivedAt.truncatedTo(java.time.temporal.ChronoUnit.MILLIS); // what the record keeps
    }

    public byte[] encode() {
        return new Body.Writer(256 + raw.length).version(VERSION).uuid(id).time(receivedAt).string(peer).string(tlsIdentity)
                .string(controlId).string(reason).bytes(raw).toByteArray();
    }

    public static RefusedFrame decode(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        if (version != VERSION) throw new IllegalArgumentException("REFUSED_FRAME body version " + version + " is not known");
        return new RefusedFrame(in.uuid(), in.time(), in.string(), in.string(), in.string(), in.string(), in.bytes());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RefusedFrame f && id.equals(f.id) && receivedAt.equals(f.receivedAt) && peer.equals(f.peer)
                && tlsIdentity.equals(f.tlsIdentity) && controlId.equals(f.controlId) && reason.equals(f.reason)
                && Arrays.equals(raw, f.raw);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return "RefusedFrame[" + id + ", " + controlId + ", " + reason + ", " + raw.length + " bytes]";
    }
}
