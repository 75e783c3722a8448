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
        return escape(text, Integer.MAX_VALUE);
    }

    /**
     * As {@link #escape(String)}, but at most {@code maxLength} characters long: the text is cut,
     * never an escape sequence, and a cut is marked with "...".
     */
    public String escape(String text, int maxLength) {
        StringBuilder out = new StringBuilder(Math.min(text.length() + 8, 1 << 16));
        for (int i = 0; i < text.length(); i++) {
            String piece = escaped(text.charAt(i));
            boolean last = i == text.length() - 1;
            if (out.length() + piece.length() > maxLength - (last ? 0 : 3)) return out.append("...").toString();
            out.append(piece);
        }
        return out.toString();
    }

    private String escaped(char c) {
        if (c == escape) return "" + escape + 'E' + escape;
        if (c == field) return "" + escape + 'F' + escape;
        if (c == component) return "" + escape + 'S' + escape;
        if (c == subcomponent) return "" + escape + 'T' + escape;
        if (c == repetition) return "" + escape + 'R' + escape;
        if (encodingCharacters.length() == 5 && c == encodingCharacters.charAt(4)) return "" + escape + 'P' + escape; // v2.7 truncation
        if (c == '\r' || c == '\n') return " ";
        return String.valueOf(c);
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
