package org.mllpserver.hl7;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The MSH segment of a decoded message, read without HAPI: enough to address an answer to any
 * frame, including one HAPI cannot parse.
 *
 * <p>Field numbers follow HL7: {@code field(1)} is the field separator, {@code field(2)} the
 * encoding characters, {@code field(10)} the message control id. Values are the raw field text
 * (escape sequences kept) unless a method says otherwise.
 */
public final class MshHeader {

    /** Outcome of looking for an MSH segment. */
    public sealed interface Scan permits Found, Unreadable, Missing {}

    public record Found(MshHeader header) implements Scan {}

    /** An MSH segment is there but its field separator cannot be used to read it. */
    public record Unreadable(String reason) implements Scan {}

    public record Missing() implements Scan {}

    private final List<String> fields;
    private Optional<Hl7Version> version; // parsed on first use; a header belongs to one thread
    private final Optional<Delimiters> delimiters;
    private final Optional<Problem> encodingProblem;
    private final boolean firstSegment;

    private MshHeader(List<String> fields, Optional<Delimiters> delimiters, Optional<Problem> encodingProblem,
                      boolean firstSegment) {
        this.fields = fields;
        this.delimiters = delimiters;
        this.encodingProblem = encodingProblem;
        this.firstSegment = firstSegment;
    }

    /**
     * Reads the first MSH segment of {@code text}: the first segment, or (so that a refused
     * batch can still be answered with a control id) the first MSH found at a segment start.
     * Segments may end with CR, LF or CRLF.
     */
    public static Scan scan(String text) {
        int start = skipLineBreaks(text, 0);
        boolean first = true;
        while (start < text.length() && !text.startsWith("MSH", start)) {
            int end = segmentEnd(text, start);
            start = skipLineBreaks(text, end);
            first = false;
        }
        if (start >= text.length()) return new Missing();
        String segment = text.substring(start, segmentEnd(text, start));
        if (segment.length() < 4) return new Unreadable("the MSH segment ends before its field separator (MSH-1)");
        char separator = segment.charAt(3);
        if (!isDelimiterCharacter(separator)) {
            return new Unreadable("MSH-1 (field separator) must be a punctuation character, not " + describe(separator));
        }
        List<String> fields = split(segment, separator);
        String encodingCharacters = fields.size() > 2 ? fields.get(2) : "";
        Optional<Problem> problem = checkEncodingCharacters(separator, encodingCharacters);
        Optional<Delimiters> delimiters = problem.isPresent() ? Optional.empty()
                : Optional.of(new Delimiters(separator, encodingCharacters.charAt(0), encodingCharacters.charAt(1),
                encodingCharacters.charAt(2), encodingCharacters.charAt(3), encodingCharacters));
        return new Found(new MshHeader(fields, delimiters, problem, first));
    }

    /** Present when MSH-2 cannot be used; components of other fields are then not split. */
    public Optional<Problem> encodingProblem() {
        return encodingProblem;
    }

    /** The declared delimiters, when MSH-1 and MSH-2 are usable. */
    public Optional<Delimiters> delimiters() {
        return delimiters;
    }

    /** False when segments come before MSH (a batch header, say). */
    public boolean isFirstSegment() {
        return firstSegment;
    }

    /** Raw text of MSH-n; empty when absent. */
    public String field(int n) {
        return n < fields.size() ? fields.get(n) : "";
    }

    /**
     * Component {@code c} of the first repetition of MSH-n, with delimiter escapes resolved.
     * When MSH-2 is unusable the field is not split: component 1 is the whole field.
     */
    public String component(int n, int c) {
        String value = field(n);
        if (delimiters.isEmpty()) return c == 1 ? value : "";
        Delimiters d = delimiters.get();
        String repetition = firstPiece(value, d.repetition());
        String component = nthPiece(repetition, d.component(), c);
        return d.unescapeDelimiters(component);
    }

    /** MSH-10, raw: MSA-2 must give it back exactly. */
    public String controlId() {
        return field(10);
    }

    public String messageType() {
        return component(9, 1).strip();
    }

    public String triggerEvent() {
        return component(9, 2).strip();
    }

    public String messageStructure() {
        return component(9, 3).strip();
    }

    /** MSH-12.1, e.g. "2.5.1". */
    public String versionId() {
        return component(12, 1).strip();
    }

    /** MSH-12.1 as a version this server accepts, if it is one. */
    public Optional<Hl7Version> version() {
        if (version == null) version = Hl7Version.parse(versionId());
        return version;
    }

    /** MSH-15 (accept acknowledgment type), upper case; empty when not valued. */
    public String acceptAckType() {
        return component(15, 1).strip().toUpperCase(Locale.ROOT);
    }

    /** MSH-16 (application acknowledgment type), upper case; empty when not valued. */
    public String applicationAckType() {
        return component(16, 1).strip().toUpperCase(Locale.ROOT);
    }

    /** Number of fields present, counting MSH-1. */
    public int fieldCount() {
        return fields.size() - 1;
    }

    /**
     * MSH-2 must hold four distinct punctuation characters (component, repetition, escape,
     * subcomponent), optionally a fifth (the v2.7 truncation character), none equal to MSH-1.
     * The double quote is refused too: {@code ""} is HL7's explicit null.
     */
    static Optional<Problem> checkEncodingCharacters(char separator, String chars) {
        if (chars.length() < 4 || chars.length() > 5) {
            return Optional.of(Problem.inMsh(ErrorCode.DATA_TYPE_ERROR, 2, "MSH-2 (encoding characters) must hold 4 characters"
                    + " (component, repetition, escape, subcomponent; a 5th for truncation from v2.7), found " + chars.length()));
        }
        String seen = String.valueOf(separator);
        for (int i = 0; i < chars.length(); i++) {
            char c = chars.charAt(i);
            if (!isDelimiterCharacter(c) || c == '"') {
                return Optional.of(Problem.inMsh(ErrorCode.DATA_TYPE_ERROR, 2,
                        "MSH-2 (encoding characters) holds " + describe(c) + "; each must be a punctuation character other than '\"'"));
            }
            if (seen.indexOf(c) >= 0) {
                return Optional.of(Problem.inMsh(ErrorCode.DATA_TYPE_ERROR, 2,
                        "MSH-2 (encoding characters) uses '" + c + "' twice (or as the field separator too); delimiters must be distinct"));
            }
            seen += c;
        }
        return Optional.empty();
    }

    /** Printable ASCII that is not a letter, digit or space. */
    static boolean isDelimiterCharacter(char c) {
        return c > 0x20 && c < 0x7F && !Character.isLetterOrDigit(c);
    }

    private static String describe(char c) {
        return c >= 0x21 && c < 0x7F ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    /** Splits a segment: element 0 is "MSH", element 1 the separator itself (MSH-1), then MSH-2... */
    private static List<String> split(String segment, char separator) {
        List<String> fields = new ArrayList<>();
        fields.add("MSH");
        fields.add(String.valueOf(separator));
        int from = 4;
        while (true) {
            int next = segment.indexOf(separator, from);
            if (next < 0) {
                fields.add(segment.substring(from));
                return fields;
            }
            fields.add(segment.substring(from, next));
            from = next + 1;
        }
    }

    /** The text before the first {@code delimiter} (all of it when there is none). */
    static String firstPiece(String value, char delimiter) {
        int end = value.indexOf(delimiter);
        return end < 0 ? value : value.substring(0, end);
    }

    /** The {@code n}-th (1-based) piece of {@code value} split on {@code delimiter}; empty when there are fewer. */
    static String nthPiece(String value, char delimiter, int n) {
        int from = 0;
        for (int i = 1; i < n; i++) {
            int next = value.indexOf(delimiter, from);
            if (next < 0) return "";
            from = next + 1;
        }
        int end = value.indexOf(delimiter, from);
        return end < 0 ? value.substring(from) : value.substring(from, end);
    }

    private static int segmentEnd(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n') return i;
        }
        return text.length();
    }

    private static int skipLineBreaks(String text, int from) {
        int i = from;
        while (i < text.length() && (text.charAt(i) == '\r' || text.charAt(i) == '\n')) i++;
        return i;
    }
}
