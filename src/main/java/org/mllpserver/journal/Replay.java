package org.mllpserver.journal;

import java.time.Instant;
import java.util.UUID;

/**
 * A REPLAY record: an operator replayed a dead letter. One record both resolves the dead letter
 * and carries the message again, addressed to the chosen connectors (the message keeps its record
 * id, so a downstream that did get it can drop the repeat): a crash cannot leave one without the
 * other. Dispatchers deliver it like a MESSAGE, in journal order.
 *
 * @param deadLetterPosition where the DEAD_LETTER record is (version 2 on; -1 when read from a
 *                           version 1 record, which named the dead letter by id only)
 * @param action             {@code replayed to a, b}
 */
public record Replay(UUID deadLetterId, long deadLetterPosition, Instant at, String action, StoredMessage message) {

    private static final int VERSION = 2;
    /** Version 1 had no position. */
    private static final int VERSION_WITHOUT_POSITION = 1;

    public Replay {
        at = at.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    public byte[] encode() {
        byte[] stored = message.encode();
        return new Body.Writer(72 + stored.length).version(VERSION).uuid(deadLetterId).number(deadLetterPosition).time(at).string(action)
                .bytes(stored).toByteArray();
    }

    public static Replay decode(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        if (version == VERSION_WITHOUT_POSITION) {
            return new Replay(in.uuid(), -1, in.time(), in.string(), StoredMessage.decode(in.bytes()));
        }
        if (version != VERSION) throw new IllegalArgumentException("REPLAY body version " + version + " is not known");
        return new Replay(in.uuid(), in.number(), in.time(), in.string(), StoredMessage.decode(in.bytes()));
    }
}
