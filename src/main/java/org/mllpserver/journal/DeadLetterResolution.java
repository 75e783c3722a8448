package org.mllpserver.journal;

import java.time.Instant;
import java.util.UUID;

/**
 * A DEAD_LETTER_RESOLVED record: an operator purged a dead letter. After it, the dead letter is no
 * longer listed and no longer keeps its segment.
 *
 * @param deadLetterPosition where the DEAD_LETTER record is (version 2 on; -1 when read from a
 *                           version 1 record, which named the dead letter by id only)
 * @param action             {@code purged}
 */
public record DeadLetterResolution(UUID deadLetterId, long deadLetterPosition, Instant at, String action) {

    private static final int VERSION = 2;
    /** Version 1 had no position. */
    private static final int VERSION_WITHOUT_POSITION = 1;

    public DeadLetterResolution {
        at = at.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    public byte[] encode() {
        return new Body.Writer().version(VERSION).uuid(deadLetterId).number(deadLetterPosition).time(at).string(action).toByteArray();
    }

    public static DeadLetterResolution decode(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        if (version == VERSION_WITHOUT_POSITION) return new DeadLetterResolution(in.uuid(), -1, in.time(), in.string());
        if (version != VERSION) throw new IllegalArgumentException("DEAD_LETTER_RESOLVED body version " + version + " is not known");
        return new DeadLetterResolution(in.uuid(), in.number(), in.time(), in.string());
    }
}
