package org.mllpserver.rules;

/**
 * The CEL variable {@code msh}: the message header. Field names are what rules write, so they are
 * snake_case. Every value is text, "" when the message has none, HL7 escapes decoded.
 */
public record Msh(
        String sending_app,        // MSH-3.1
        String sending_facility,   // MSH-4.1
        String receiving_app,      // MSH-5.1
        String receiving_facility, // MSH-6.1
        String msg_type,           // MSH-9.1
        String trigger,            // MSH-9.2
        String structure,          // MSH-9.3
        String control_id,         // MSH-10
        String processing_id,      // MSH-11.1
        String version,            // MSH-12.1
        String datetime,           // MSH-7.1
        String charset) {          // MSH-18 (first repetition), as sent
}
