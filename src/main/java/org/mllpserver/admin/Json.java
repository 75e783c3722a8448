package org.mllpserver.admin;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The little JSON the admin listener writes: maps (in their iteration order), lists, strings,
 * numbers, booleans, null, and instants and UUIDs as strings. Strings are escaped per RFC 8259.
 */
public final class Json {

    private Json() {
    }

    /** {@code value} as JSON text. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case null -> out.append("null");
            case String s -> out.append(string(s));
            case Boolean b -> out.append(b);
            case Double d -> out.append(d.isNaN() || d.isInfinite() ? "null" : d.toString());
            case Float f -> out.append(f.isNaN() || f.isInfinite() ? "null" : f.toString());
            case Number n -> out.append(n);
            case Instant i -> out.append(string(i.toString()));
            case UUID u -> out.append(string(u.toString()));
            case Optional<?> o -> write(o.orElse(null), out);
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!first) out.append(',');
                    first = false;
                    out.append(string(String.valueOf(e.getKey()))).append(':');
                    write(e.getValue(), out);
                }
                out.append('}');
            }
            case Collection<?> list -> {
                out.append('[');
                boolean first = true;
                for (Object v : list) {
                    if (!first) out.append(',');
                    first = false;
                    write(v, out);
                }
                out.append(']');
            }
            default -> out.append(string(value.toString()));
        }
    }

    /** {@code text} as a JSON string literal. */
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
