package org.mllpserver.delivery;

import org.mllpserver.journal.StoredMessage;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * The JSON body of an HTTP delivery in {@link ConnectorSettings.HttpFormat#JSON} format, UTF-8:
 *
 * <pre>{@code
 * {"id":"<record id>","received_at":"2026-11-22T10:00:00.123Z","msg_type":"ADT^A01^ADT_A01",
 *  "control_id":"...","sending_application":"...","sending_facility":"...","charset":"UTF-8",
 *  "message":"MSH|^~\\&|...\r..."}
 * }</pre>
 *
 * Every value is a string; the header fields are MSH-9, MSH-10, MSH-3 and MSH-4 as written;
 * {@code message} is the raw bytes decoded with the charset the intake decoded them with (segments
 * keep their CR, written {@code \r}). Written by hand: eight fields need no JSON library.
 */
final class JsonEnvelope {

    private JsonEnvelope() {}

    /**
     * @throws java.nio.charset.UnsupportedCharsetException when this JVM does not know the record's
     *         charset (a record written by another installation)
     */
    static byte[] of(StoredMessage m) {
        String message = new String(m.raw(), Charset.forName(m.charset()));
        StringBuilder json = new StringBuilder(m.raw().length + 256).append('{');
        field(json, "id", m.id().toString()).append(',');
        field(json, "received_at", m.receivedAt().toString()).append(',');
        field(json, "msg_type", m.messageType()).append(',');
        field(json, "control_id", m.controlId()).append(',');
        field(json, "sending_application", m.sendingApplication()).append(',');
        field(json, "sending_facility", m.sendingFacility()).append(',');
        field(json, "charset", m.charset()).append(',');
        field(json, "message", message);
        return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static StringBuilder field(StringBuilder json, String name, String value) {
        return string(string(json, name).append(':'), value);
    }

    /**
     * Appends {@code s} as a JSON string (RFC 8259 section 7): the quote, the backslash and every
     * control character below U+0020 are escaped; everything else, non-ASCII included, is written
     * as itself (the body is UTF-8). U+2028 and U+2029 are escaped too, so the text is also safe
     * to embed in JavaScript.
     */
    static StringBuilder string(StringBuilder json, String s) {
        json.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\r' -> json.append("\\r");
                case '\n' -> json.append("\\n");
                case '\t' -> json.append("\\t");
                case '\b' -> json.append("\\b");
                case '\f' -> json.append("\\f");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') json.append(String.format("\\u%04x", (int) c));
                    else json.append(c);
                }
            }
        }
        return json.append('"');
    }
}
