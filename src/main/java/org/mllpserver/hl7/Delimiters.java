package org.mllpserver.hl7;

/**
 * The delimiters a message declares in MSH-1 and MSH-2.
 *
 * @param encodingCharacters MSH-2 exactly as received (4 characters, or 5 with the v2.7
 *                           truncation character)
 */
public record Delimiters(char field, char component, char repetition, char escape, char subcomponent,
                         String encodingCharacters) {

    /** {@code |^~\&}: what HL7 recommends and what a reply uses when the inbound ones are unusable. */
    public static final Delimiters STANDARD = new Delimiters('|', '^', '~', '\\', '&', "^~\\&");

    /** Replaces delimiter characters in {@code text} with HL7 escape sequences; CR and LF become spaces. */
    public String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == escape) out.append(escape).append('E').append(escape);
            else if (c == field) out.append(escape).append('F').append(escape);
            else if (c == component) out.append(escape).append('S').append(escape);
            else if (c == subcomponent) out.append(escape).append('T').append(escape);
            else if (c == repetition) out.append(escape).append('R').append(escape);
            else if (c == '\r' || c == '\n') out.append(' ');
            else out.append(c);
        }
        return out.toString();
    }

    /**
     * Resolves the delimiter escapes ({@code \F\ \S\ \T\ \R\ \E\}) in a header value; other
     * escape sequences (formatting, hex, charset switches) are kept as they are.
     */
    public String unescapeDelimiters(String text) {
        if (text.indexOf(escape) < 0) return text;
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == escape && i + 2 < text.length() && text.charAt(i + 2) == escape) {
                char replacement = switch (text.charAt(i + 1)) {
                    case 'F' -> field;
                    case 'S' -> component;
                    case 'T' -> subcomponent;
                    case 'R' -> repetition;
                    case 'E' -> escape;
                    default -> 0;
                };
                if (replacement != 0) {
                    out.append(replacement);
                    i += 2;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }
}
