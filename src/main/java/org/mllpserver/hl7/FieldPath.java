package org.mllpserver.hl7;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a value is in a message, written as integration engineers write it:
 * {@code SEG[(occurrence)]-FIELD[(repetition)][.COMPONENT[.SUBCOMPONENT]]}, all 1-based, e.g.
 * {@code ORC-2.1}, {@code PID-3(2).1}, {@code OBX(3)-5}. Without a component it means component 1,
 * subcomponent 1, as HAPI's Terser reads {@code PID-5}.
 */
public record FieldPath(String segment, int occurrence, int field, int repetition, int component, int subcomponent) {

    private static final Pattern SYNTAX = Pattern.compile(
            "([A-Z][A-Z0-9]{2})(?:\\((\\d{1,5})\\))?-(\\d{1,3})(?:\\((\\d{1,5})\\))?(?:\\.(\\d{1,3})(?:\\.(\\d{1,3}))?)?");

    public FieldPath {
        if (occurrence < 1 || field < 1 || repetition < 1 || component < 1 || subcomponent < 1) {
            throw new IllegalArgumentException("positions in a field path start at 1");
        }
    }

    /** Parses a path; the exception's message says what is wrong and what the syntax is. */
    public static FieldPath parse(String text) {
        Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a field path: write SEG-FIELD[.COMPONENT[.SUBCOMPONENT]],"
                    + " with (n) after SEG for its n-th occurrence or after FIELD for its n-th repetition, e.g. \"ORC-2.1\","
                    + " \"PID-3(2).1\", \"OBX(3)-5\"");
        }
        try {
            return new FieldPath(m.group(1), number(m.group(2)), Integer.parseInt(m.group(3)), number(m.group(4)),
                    number(m.group(5)), number(m.group(6)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + text + "\": " + e.getMessage());
        }
    }

    private static int number(String group) {
        return group == null ? 1 : Integer.parseInt(group);
    }
}
