package org.mllpserver.telemetry;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code key=value,key=value} lists of OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES:
 * the W3C Baggage format without properties, as the OpenTelemetry environment specification says.
 * Whitespace around keys and values is dropped; values are percent-decoded ({@code %XX}, UTF-8;
 * a {@code +} stays a plus, unlike form encoding); an empty entry (a trailing comma) is skipped.
 *
 * <p>A problem names the variable and the entry's number and key, never the value: header values
 * are usually credentials.
 */
final class KeyValueList {

    private KeyValueList() {
    }

    /** The entries of {@code text} in order; each bad entry adds a problem and is left out. */
    static Map<String, String> parse(String variable, String text, List<String> problems) {
        Map<String, String> entries = new LinkedHashMap<>();
        String[] pieces = text.split(",", -1);
        for (int i = 0; i < pieces.length; i++) {
            String piece = pieces[i].strip();
            if (piece.isEmpty()) continue;
            String where = variable + ": entry " + (i + 1);
            int equals = piece.indexOf('=');
            if (equals < 0) {
                problems.add(where + " has no '=' (expected key=value,key=value)");
                continue;
            }
            String key = piece.substring(0, equals).strip();
            if (key.isEmpty()) {
                problems.add(where + " has an empty key");
                continue;
            }
            Optional<String> value = percentDecoded(piece.substring(equals + 1).strip());
            if (value.isEmpty()) {
                problems.add(where + " ('" + key + "'): the value has a '%' not followed by two hex digits");
            } else if (containsKey(entries, key)) {
                problems.add(where + ": '" + key + "' is given twice");
            } else {
                entries.put(key, value.get());
            }
        }
        return entries;
    }

    /** Keys compared without case: HTTP header names are case-insensitive, and no resource needs both spellings. */
    private static boolean containsKey(Map<String, String> entries, String key) {
        String lower = key.toLowerCase(Locale.ROOT);
        return entries.keySet().stream().anyMatch(k -> k.toLowerCase(Locale.ROOT).equals(lower));
    }

    /** {@code %XX} escapes decoded as UTF-8 (invalid sequences become U+FFFD); empty when an escape is malformed. */
    static Optional<String> percentDecoded(String text) {
        if (text.indexOf('%') < 0) return Optional.of(text);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        int i = 0;
        while (i < text.length()) {
            int escape = text.indexOf('%', i);
            int plainEnd = escape < 0 ? text.length() : escape;
            bytes.writeBytes(text.substring(i, plainEnd).getBytes(StandardCharsets.UTF_8));
            if (escape < 0) break;
            int high = escape + 1 < text.length() ? Character.digit(text.charAt(escape + 1), 16) : -1;
            int low = escape + 2 < text.length() ? Character.digit(text.charAt(escape + 2), 16) : -1;
            if (high < 0 || low < 0) return Optional.empty();
            bytes.write(high * 16 + low);
            i = escape + 3;
        }
        return Optional.of(bytes.toString(StandardCharsets.UTF_8));
    }
}
