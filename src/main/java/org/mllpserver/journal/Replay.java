package org.mllpserver.journal;

import java.time.Instant;
import java.util.UUID;

/**
 * A REPLAY record: an operator replayed a dead letter. One record both resolves the dead letter
 * and carries the message again, addressed to the chosen connectors (the message keeps its record
 * id, so a downstream that did get it can drop the repeat): a crash cannot leave one without the
 * other. Dispatchers deliver it like a MESSAGE, in journal order.
 *
 * @param action {@code replayed to a, b}
 */
public record Replay(UUID deadLetterId, Instant at, String action, StoredMessage message) {

    private static final int VERSION = 1;

    public Replay {
        at = at.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    public byte[] encode() {
        byte[] stored = message.encode();
        return new Body.Writer(64 + stored.length).version(VERSION).uuid(deadLetterId).time(at).string(action).bytes(stored)
                .toByteArray();
    }

    public static Replay decode(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        if (version != VERSION) throw new IllegalArgumentException("REPLAY body version " + version + " is not known");
        return new Replay(in.uuid(), in.time(), in.string(), StoredMessage.decode(in.bytes()));
    }
}
