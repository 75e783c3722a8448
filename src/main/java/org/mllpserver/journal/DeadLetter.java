package org.mllpserver.journal;

import java.time.Instant;
import java.util.UUID;

/**
 * A DEAD_LETTER record: a connector gave up on a record (undeliverable, or out of attempts). It
 * holds the whole stored message, so it can be inspected and replayed even after the record's own
 * segment is gone; a segment holding an unresolved dead letter is never deleted.
 *
 * @param id             the dead letter's own id (UUIDv7)
 * @param recordPosition where the record was in the journal
 * @param lastError      the connector's reason (never message content, never a secret)
 * @param message        the record, as stored
 */
public record DeadLetter(UUID id, Instant at, String connector, int attempts, String lastError, long recordPosition,
                         StoredMessage message) {

    private static final int VERSION = 1;

    public DeadLetter {
        at = at.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    public byte[] encode() {
        byte[] stored = message.encode();
        return new Body.Writer(128 + stored.length).version(VERSION).uuid(id).time(at).string(connector).number(attempts)
                .string(lastError).number(recordPosition).bytes(stored).toByteArray();
    }

    public static DeadLetter decode(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        if (version != VERSION) throw new IllegalArgumentException("DEAD_LETTER body version " + version + " is not known");
        return new DeadLetter(in.uuid(), in.time(), in.string(), (int) in.number(), in.string(), in.number(),
                StoredMessage.decode(in.bytes()));
    }
}
