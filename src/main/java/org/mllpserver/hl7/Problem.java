package org.mllpserver.hl7;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Why a message is refused: a table 0357 code, where (if known) and a short human message.
 * {@code message} goes back to the sender in the ERR segment (their own data: a value they sent
 * may be quoted, which is what helps them fix it); {@code logMessage} is the same text with any
 * such value replaced by its length, since a value found where a header field should be can be
 * patient data.
 */
public record Problem(ErrorCode code, Optional<Location> location, String message, String logMessage) {

    /** Where in the message: segment id, its 1-based sequence among segments of that id, field number. */
    public record Location(String segmentId, int sequence, int field) {
        @Override
        public String toString() {
            return field > 0 ? segmentId + "-" + field : segmentId;
        }
    }

    public Problem(ErrorCode code, Optional<Location> location, String message) {
        this(code, location, message, message);
    }

    public static Problem at(ErrorCode code, String segmentId, int sequence, int field, String message) {
        return new Problem(code, Optional.of(new Location(segmentId, sequence, field)), message);
    }

    public static Problem inMsh(ErrorCode code, int field, String message) {
        return at(code, "MSH", 1, field, message);
    }

    /** A problem about a value of MSH-{@code field}; {@code template} holds one %s where the value goes. */
    public static Problem inMshQuoting(ErrorCode code, int field, String template, String value) {
        String v = value.strip();
        String forSender = template.formatted("'" + (v.length() <= 64 ? v : v.substring(0, 61) + "...") + "'");
        String forLog = template.formatted("(a value of " + v.length() + " characters)");
        return new Problem(code, Optional.of(new Location("MSH", 1, field)), forSender, forLog);
    }

    public static Problem general(ErrorCode code, String message) {
        return new Problem(code, Optional.empty(), message);
    }

    private static final Pattern CONTROL_ID = Pattern.compile("[A-Za-z0-9._:-]{1,40}");
    private static final Pattern MESSAGE_TYPE = Pattern.compile("[A-Z0-9]{1,3}(\\^[A-Z0-9_]{1,7}){0,2}");

    /** A control id for a log line: as it is when it has a control id's shape, else only its length. */
    public static String controlIdForLog(String controlId) {
        return CONTROL_ID.matcher(controlId).matches() ? "'" + controlId + "'" : "(a value of " + controlId.length() + " characters)";
    }

    /** A message type for a log line (ADT^A01^ADT_A01): as it is when it has that shape, else "?". */
    public static String messageTypeForLog(String type) {
        return MESSAGE_TYPE.matcher(type).matches() ? type : "?";
    }

    /** The problem as the log shows it: no value from the message. */
    public String toLogString() {
        return code.code() + " " + code.text() + location.map(l -> " at " + l).orElse("") + ": " + logMessage;
    }

    @Override
    public String toString() {
        return code.code() + " " + code.text() + location.map(l -> " at " + l).orElse("") + ": " + message;
    }
}
