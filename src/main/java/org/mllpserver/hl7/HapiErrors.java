package org.mllpserver.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;

import java.util.Optional;

/** Turns a HAPI parse exception into a {@link Problem} without quoting message content. */
final class HapiErrors {

    private HapiErrors() {
    }

    static Problem toProblem(HL7Exception e) {
        ErrorCode code = fromTable0357(e.getErrorCode());
        Location where = e.getLocation();
        Optional<Problem.Location> location = Optional.empty();
        if (where != null && where.getSegmentName() != null) {
            int sequence = Math.max(1, where.getSegmentRepetition());
            location = Optional.of(new Problem.Location(where.getSegmentName(), sequence, Math.max(0, where.getField())));
        }
        // HAPI's own message may quote the message text (patient data), so it stays out.
        String message = "the HL7 parser refused the message" + location.map(l -> " at " + l).orElse("")
                + " (" + code.text().toLowerCase(java.util.Locale.ROOT) + ")";
        return new Problem(code, location, message);
    }

    private static ErrorCode fromTable0357(int code) {
        for (ErrorCode candidate : ErrorCode.values()) {
            if (candidate.code() == code) return candidate;
        }
        return ErrorCode.APPLICATION_INTERNAL_ERROR;
    }
}
