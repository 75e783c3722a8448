package org.mllpserver.hl7;

import java.util.Optional;

/**
 * Why a message is refused: a table 0357 code, where (if known) and a short human message.
 * The message goes back to the sender in the ERR segment and into our log, so it never quotes
 * patient data: at most a header value such as a version or charset name.
 */
public record Problem(ErrorCode code, Optional<Location> location, String message) {

    /** Where in the message: segment id, its 1-based sequence among segments of that id, field number. */
    public record Location(String segmentId, int sequence, int field) {
        @Override
        public String toString() {
            return field > 0 ? segmentId + "-" + field : segmentId;
        }
    }

    public static Problem at(ErrorCode code, String segmentId, int sequence, int field, String message) {
        return new Problem(code, Optional.of(new Location(segmentId, sequence, field)), message);
    }

    public static Problem inMsh(ErrorCode code, int field, String message) {
        return at(code, "MSH", 1, field, message);
    }

    public static Problem general(ErrorCode code, String message) {
        return new Problem(code, Optional.empty(), message);
    }

    @Override
    public String toString() {
        return code.code() + " " + code.text() + location.map(l -> " at " + l).orElse("") + ": " + message;
    }
}
