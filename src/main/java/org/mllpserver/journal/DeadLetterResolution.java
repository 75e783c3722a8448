package org.mllpserver.journal;

import java.time.Instant;
import java.util.UUID;

/**
 * A DEAD_LETTER_RESOLVED record: an operator replayed a dead letter (to which connectors) or
 * purged it. After it, the dead letter is no longer listed and no longer keeps its segment.
 *
 * @param action {@code replayed to a, b} or {@code purged}
 */
public record DeadLetterResolution(UUID deadLetterId, Instant at, String action) {

    private static final int VERSION = 1;

    public DeadLetterResolution {
        at = at.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    public byte[] encode() {
        return new Body.Writer().version(VERSION).uuid(deadLetterId).time(at).string(action).toByteArray();
    }

    public static DeadLetterResolution decode(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        if (version != VERSION) throw new IllegalArgumentException("DEAD_LETTER_RESOLVED body version " + version + " is not known");
        return new DeadLetterResolution(in.uuid(), in.time(), in.string());
    }
}
