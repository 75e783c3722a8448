package org.mllpserver.app;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a file into HL7 messages for the {@code send} command: messages are separated by blank
 * lines, segments may end with CR, LF or CRLF, and each message is sent with CR segment ends.
 * Bytes are handled as ISO-8859-1 so every byte of the file reaches the server unchanged.
 */
final class MessageFiles {

    private MessageFiles() {
    }

    static List<byte[]> split(byte[] content) {
        String text = new String(content, StandardCharsets.ISO_8859_1);
        List<byte[]> messages = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\r\n|\r|\n", -1)) {
            if (line.isBlank()) {
                flush(current, messages);
            } else {
                current.append(line).append('\r');
            }
        }
        flush(current, messages);
        return messages;
    }

    /**
     * A copy of {@code message} whose MSH-10 is {@code original.n}, so that repeated sends are
     * distinct messages (kept within MSH-10's 20 characters).
     */
    static byte[] withControlIdSuffix(byte[] message, long n) {
        String text = new String(message, StandardCharsets.ISO_8859_1);
        String[] fields = mshFields(text);
        if (fields.length < 10) return message;
        char separator = text.charAt(3);
        int end = text.indexOf('\r');
        String suffix = "." + n;
        String base = fields[9].length() + suffix.length() > 20 ? fields[9].substring(0, Math.max(0, 20 - suffix.length())) : fields[9];
        fields[9] = base + suffix;
        String rewritten = String.join(String.valueOf(separator), fields) + (end < 0 ? "" : text.substring(end));
        return rewritten.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** MSH-15 (accept acknowledgment type), upper case; empty when not valued. */
    static String acceptAckType(byte[] message) {
        String[] fields = mshFields(new String(message, StandardCharsets.ISO_8859_1));
        return fields.length > 14 ? fields[14].strip().toUpperCase(java.util.Locale.ROOT) : "";
    }

    /** MSH-10 as written; empty when there is none. */
    static String controlId(byte[] message) {
        String[] fields = mshFields(new String(message, StandardCharsets.ISO_8859_1));
        return fields.length > 9 ? fields[9] : "";
    }

    /** MSH split on MSH-1: index n-1 holds MSH-n (index 0 is "MSH"). */
    private static String[] mshFields(String text) {
        if (!text.startsWith("MSH") || text.length() < 4) return new String[0];
        int end = text.indexOf('\r');
        String msh = end < 0 ? text : text.substring(0, end);
        return msh.split(java.util.regex.Pattern.quote(String.valueOf(msh.charAt(3))), -1);
    }

    private static void flush(StringBuilder current, List<byte[]> messages) {
        if (current.isEmpty()) return;
        messages.add(current.toString().getBytes(StandardCharsets.ISO_8859_1));
        current.setLength(0);
    }
}
