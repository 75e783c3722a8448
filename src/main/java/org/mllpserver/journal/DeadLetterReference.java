package org.mllpserver.journal;

import java.util.UUID;

/**
 * Which dead letter a REPLAY or DEAD_LETTER_RESOLVED record resolves, read from the start of its
 * body without decoding the message a REPLAY carries (a start-up scan reads many).
 *
 * @param position the DEAD_LETTER record's position, or -1 for a record of version 1, which named it by id only
 */
public record DeadLetterReference(UUID id, long position) {

    /** The reference in a REPLAY or DEAD_LETTER_RESOLVED body (both start with version, dead letter id, then its position from version 2). */
    public static DeadLetterReference of(byte[] body) {
        Body.Reader in = new Body.Reader(body);
        int version = in.version();
        UUID id = in.uuid();
        return new DeadLetterReference(id, version >= 2 ? in.number() : -1);
    }
}
