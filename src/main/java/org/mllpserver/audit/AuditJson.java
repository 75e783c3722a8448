package org.mllpserver.audit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
        StringBuilder out = new StringBuilder(512).append('{');
        fields(r).forEach((name, value) -> out.append('"').append(name).append("\":").append(json(value)).append(','));
        out.setCharAt(out.length() - 1, '}');
        return out.toString();
    }

    /**
     * The record's fields in the export's order and names, as Java values (String, Long, Integer,
     * Boolean, a List of String, or null when a field does not apply): what {@link #line} writes,
     * and what the admin API puts in its JSON.
     */
    public static Map<String, Object> fields(AuditRecord r) {
        AuditEvent e = r.event();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("seq", r.seq());
        out.put("time", e.time().toString());
        out.put("event", e.kind().externalName());
        out.put("recovered", e.recovered());
        out.put("peer", text(e.sender().address()));
        out.put("tls_identity", text(e.sender().tlsIdentity()));
        out.put("sending_application", text(e.header().sendingApplication()));
        out.put("sending_facility", text(e.header().sendingFacility()));
        out.put("message_type", text(e.header().messageType()));
        out.put("control_id", text(e.header().controlId()));
        out.put("record_id", e.stored().recordId().map(Object::toString).orElse(null));
        out.put("journal_position", e.stored().position() < 0 ? null : e.stored().position());
        out.put("payload_sha256", e.payload().sha256().map(Sha256::hex).orElse(null));
        out.put("payload_bytes", e.payload().bytes() < 0 ? null : e.payload().bytes());
        out.put("ack_code", text(e.answer().ackCode()));
        out.put("reasons", e.answer().reasons().isEmpty() ? null : List.copyOf(e.answer().reasons()));
        out.put("connector", text(e.delivery().connector()));
        out.put("attempts", e.delivery().attempts() <= 0 ? null : e.delivery().attempts());
        out.put("who", text(e.operator().who()));
        out.put("action", text(e.operator().action()));
        out.put("dead_letter_id", e.operator().deadLetterId().map(Object::toString).orElse(null));
        out.put("segment_first_seq", e.segment().map(s -> (Object) s.firstSeq()).orElse(null));
        out.put("segment_last_seq", e.segment().map(s -> (Object) s.lastSeq()).orElse(null));
        out.put("segment_last_hash", e.segment().map(s -> s.lastHash().hex()).orElse(null));
        out.put("detail", text(e.detail()));
        out.put("prev_hash", r.prevHash().hex());
        out.put("hash", r.hash().hex());
        return out;
    }

    /** An empty text is "not applicable" in the record: null in JSON. */
    private static String text(String value) {
        return value.isEmpty() ? null : value;
    }

    private static String json(Object value) {
        return switch (value) {
            case null -> "null";
            case String text -> string(text);
            case List<?> values -> {
                StringBuilder out = new StringBuilder("[");
                for (int i = 0; i < values.size(); i++) out.append(i == 0 ? "" : ",").append(json(values.get(i)));
                yield out.append(']').toString();
            }
            default -> value.toString(); // Long, Integer, Boolean
        };
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
