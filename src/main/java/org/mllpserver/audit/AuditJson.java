package org.mllpserver.audit;

import java.util.List;

/**
 * One audit record as one line of JSON, for a SIEM. Every line has every field, always in this
 * order and under these names (null when a field does not apply), which never change meaning:
 * {@code seq, time, event, recovered, peer, tls_identity, sending_application, sending_facility,
 * message_type, control_id, record_id, journal_position, payload_sha256, payload_bytes, ack_code,
 * reasons, connector, attempts, who, action, dead_letter_id, segment_first_seq, segment_last_seq,
 * segment_last_hash, detail, prev_hash, hash}.
 */
public final class AuditJson {

    private AuditJson() {
    }

    public static String line(AuditRecord r) {
        AuditEvent e = r.event();
        StringBuilder out = new StringBuilder(512).append('{');
        field(out, "seq", Long.toString(r.seq()));
        field(out, "time", string(e.time().toString()));
        field(out, "event", string(e.kind().externalName()));
        field(out, "recovered", Boolean.toString(e.recovered()));
        field(out, "peer", text(e.sender().address()));
        field(out, "tls_identity", text(e.sender().tlsIdentity()));
        field(out, "sending_application", text(e.header().sendingApplication()));
        field(out, "sending_facility", text(e.header().sendingFacility()));
        field(out, "message_type", text(e.header().messageType()));
        field(out, "control_id", text(e.header().controlId()));
        field(out, "record_id", e.stored().recordId().map(id -> string(id.toString())).orElse("null"));
        field(out, "journal_position", e.stored().position() < 0 ? "null" : Long.toString(e.stored().position()));
        field(out, "payload_sha256", e.payload().sha256().map(h -> string(h.hex())).orElse("null"));
        field(out, "payload_bytes", e.payload().bytes() < 0 ? "null" : Long.toString(e.payload().bytes()));
        field(out, "ack_code", text(e.answer().ackCode()));
        field(out, "reasons", e.answer().reasons().isEmpty() ? "null" : array(e.answer().reasons()));
        field(out, "connector", text(e.delivery().connector()));
        field(out, "attempts", e.delivery().attempts() <= 0 ? "null" : Integer.toString(e.delivery().attempts()));
        field(out, "who", text(e.operator().who()));
        field(out, "action", text(e.operator().action()));
        field(out, "dead_letter_id", e.operator().deadLetterId().map(id -> string(id.toString())).orElse("null"));
        field(out, "segment_first_seq", e.segment().map(s -> Long.toString(s.firstSeq())).orElse("null"));
        field(out, "segment_last_seq", e.segment().map(s -> Long.toString(s.lastSeq())).orElse("null"));
        field(out, "segment_last_hash", e.segment().map(s -> string(s.lastHash().hex())).orElse("null"));
        field(out, "detail", text(e.detail()));
        field(out, "prev_hash", string(r.prevHash().hex()));
        field(out, "hash", string(r.hash().hex()));
        out.setCharAt(out.length() - 1, '}');
        return out.toString();
    }

    private static void field(StringBuilder out, String name, String json) {
        out.append('"').append(name).append("\":").append(json).append(',');
    }

    /** An empty text is "not applicable" in the record: null in JSON. */
    private static String text(String value) {
        return value.isEmpty() ? "null" : string(value);
    }

    private static String array(List<String> values) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) out.append(i == 0 ? "" : ",").append(string(values.get(i)));
        return out.append(']').toString();
    }

    /** {@code text} as a JSON string literal (RFC 8259). */
    static String string(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }
}
