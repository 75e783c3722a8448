package org.mllpserver.hl7;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The well-formedness checks every message passes before it is accepted: the things a router
 * relies on, checked the same way for every version. Content rules are the operator's (CEL).
 *
 * <ul>
 *   <li>the message starts with MSH, whose MSH-1/MSH-2 are usable;
 *   <li>one message per frame, and no batch envelope (FHS/BHS/BTS/FTS);
 *   <li>every segment starts with a segment id: three upper-case letters or digits, the first a
 *       letter, then the field separator (unknown ids are allowed: HL7 asks receivers to ignore
 *       segments they do not expect, and v2.9 will bring new ones);
 *   <li>no control characters other than CR, LF, TAB and ESC (ISO 2022 charset switches),
 *       anywhere: a stray 0x0B in a payload is a sender's framing bug, not white space;
 *   <li>MSH-9.1 (message type) and MSH-12 (a version 2.1–2.8) are valued; from v2.4 on MSH-9.2
 *       (trigger event) too, except on ACK;
 *   <li>at most {@value #MAX_COMPONENTS} components per field and subcomponents per component,
 *       and {@value #MAX_VALUES} values in all (these bound HAPI's time and memory);
 *   <li>MSH-7 and EVN-2, when valued, look like HL7 timestamps: at least a year of digits, an
 *       optional fraction, an optional {@code +/-ZZZZ}.
 * </ul>
 *
 * <p>What is deliberately <em>not</em> refused, because real senders do it (the public sample
 * corpus has each): an empty MSH-10 (MSA-2 then echoes it empty), timestamps with the wrong
 * precision or milliseconds without the decimal point, messages without the segments their
 * structure requires (opt in with CHECK_REQUIRED_SEGMENTS, or write a CEL rule), unknown
 * message types, Z segments.
 */
final class MessageChecks {

    /** Enough to tell a sender what is wrong; a message with more problems than this is not worth listing. */
    static final int MAX_PROBLEMS = 10;
    /**
     * Components in one field repetition, and subcomponents in one component. No HL7 data type has
     * more than about 25; HAPI builds a field's components one at a time at quadratic cost (8 000
     * components: 0.2 s, 32 000: 2 s, measured), so this cap is what keeps one frame within
     * MAX_FRAME_SIZE from pinning a CPU for minutes.
     */
    static final int MAX_COMPONENTS = 100;
    /**
     * Values (fields, repetitions, components, subcomponents) in one message. HAPI holds 150–280
     * bytes of heap per value (measured), so this bounds one parse to about 70 MB however the
     * frame is shaped; a 10 000-result lab report has about 200 000.
     */
    static final int MAX_VALUES = 250_000;

    private static final Set<String> BATCH_SEGMENTS = Set.of("FHS", "BHS", "BTS", "FTS");
    /** Digits from the year on, optional fraction, optional zone; the precision is not policed. */
    private static final Pattern LOOSE_TIMESTAMP = Pattern.compile("[0-9]{4,}(\\.[0-9]+)?([+-][0-9]{4})?");

    private MessageChecks() {
    }

    /** Problems of a message whose MSH is readable; {@code segments} are split on CR after normalising line ends. */
    static List<Problem> check(MshHeader header, String[] segments) {
        List<Problem> problems = new ArrayList<>();
        Optional<Problem> batch = batchProblem(segments);
        if (batch.isPresent()) return List.of(batch.get());
        if (!header.isFirstSegment()) {
            problems.add(Problem.general(ErrorCode.SEGMENT_SEQUENCE_ERROR, "the message must start with an MSH segment"));
        }
        header.encodingProblem().ifPresent(problems::add);
        if (header.delimiters().isEmpty()) return problems; // fields cannot be read reliably
        Delimiters delimiters = header.delimiters().get();
        checkSegments(segments, delimiters, problems);
        checkHeaderFields(header, problems);
        checkTimestamps(header, segments, delimiters.field(), problems);
        return problems.size() > MAX_PROBLEMS ? List.copyOf(problems.subList(0, MAX_PROBLEMS)) : problems;
    }

    /** No batch segment and at most one MSH. */
    static boolean holdsOneMessage(String[] segments) {
        int messages = 0;
        for (String segment : segments) {
            int at = indent(segment);
            if (isBatchSegment(segment, at)) return false;
            if (segment.startsWith("MSH", at)) messages++;
        }
        return messages <= 1;
    }

    private static Optional<Problem> batchProblem(String[] segments) {
        for (String segment : segments) {
            int at = indent(segment);
            if (isBatchSegment(segment, at)) {
                return Optional.of(Problem.general(ErrorCode.SEGMENT_SEQUENCE_ERROR, "batches (FHS/BHS) are not accepted yet ("
                        + segment.substring(at, at + 3) + " segment found); send each message in its own MLLP frame"));
            }
        }
        return Optional.empty();
    }

    private static boolean isBatchSegment(String segment, int at) {
        return segment.length() >= at + 3 && (segment.startsWith("FHS", at) || segment.startsWith("BHS", at)
                || segment.startsWith("BTS", at) || segment.startsWith("FTS", at));
    }

    /**
     * One pass per segment: its id, control characters, components per field and values. The
     * sequence number of a segment among those with its id is counted only for a problem.
     */
    private static void checkSegments(String[] segments, Delimiters d, List<Problem> problems) {
        int messages = 0;
        long values = 0;
        byte[] classes = classes(d);
        for (int i = 0; i < segments.length && problems.size() < MAX_PROBLEMS; i++) {
            String segment = stripIndent(segments[i]);
            if (segment.isEmpty()) continue;
            if (segment.startsWith("MSH")) messages++;
            Shape shape = shape(segment, d, classes);
            values += shape.values();
            boolean validId = validSegmentId(segment, d.field());
            if (shape.controlIndex() >= 0) {
                String text = String.format("segment %d holds control character U+%04X, which HL7 text must not contain"
                        + " (a stray MLLP byte? use an escape sequence for data)", i + 1, (int) segment.charAt(shape.controlIndex()));
                problems.add(validId
                        ? Problem.at(ErrorCode.DATA_TYPE_ERROR, segmentId(segment), sequence(segments, i), fieldNumber(segment, shape.controlIndex(), d.field()), text)
                        : Problem.general(ErrorCode.DATA_TYPE_ERROR, text));
            } else if (!validId) {
                problems.add(Problem.general(ErrorCode.SEGMENT_SEQUENCE_ERROR, "segment " + (i + 1)
                        + " does not start with a segment id (three upper-case letters or digits, then the field separator)"));
            } else if (shape.crowdedField() > 0) {
                String id = segmentId(segment);
                problems.add(Problem.at(ErrorCode.DATA_TYPE_ERROR, id, sequence(segments, i), shape.crowdedField(), id + "-"
                        + shape.crowdedField() + " has more than " + MAX_COMPONENTS
                        + " components or subcomponents; escape delimiters in data (\\S\\, \\T\\)"));
            }
        }
        if (messages > 1) {
            problems.add(Problem.general(ErrorCode.SEGMENT_SEQUENCE_ERROR, "the frame holds " + messages
                    + " messages (MSH segments); MLLP carries one message per frame"));
        }
        if (values > MAX_VALUES) problems.add(tooManyValues());
    }

    static Problem tooManyValues() {
        return Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, "the message holds more than " + MAX_VALUES
                + " values (segments, fields, repetitions, components); split it into smaller messages");
    }

    /**
     * Normalised text (CR segment ends) split into segments, or null when there are more than
     * {@code max}: a frame of millions of tiny segments must not become millions of strings.
     */
    static String[] splitSegments(String text, int max) {
        List<String> segments = new ArrayList<>();
        int from = 0;
        while (true) {
            int end = text.indexOf('\r', from);
            segments.add(end < 0 ? text.substring(from) : text.substring(from, end));
            if (segments.size() > max) return null;
            if (end < 0) return segments.toArray(String[]::new);
            from = end + 1;
        }
    }

    /**
     * What one pass over a segment finds: the first control character (or -1), its values, and the
     * first field (HL7 numbering) with too many components or subcomponents (or 0).
     */
    record Shape(int controlIndex, long values, int crowdedField) {}

    static Shape shape(String segment, Delimiters d) {
        return shape(segment, d, classes(d));
    }

    private static final byte PLAIN = 0;
    private static final byte CONTROL = 1;
    private static final byte FIELD = 2;
    private static final byte REPETITION = 3;
    private static final byte COMPONENT = 4;
    private static final byte SUBCOMPONENT = 5;

    /** What each ASCII character is, for these delimiters: one table look-up per character instead of five comparisons. */
    private static byte[] classes(Delimiters d) {
        byte[] classes = new byte[128];
        for (char c = 0; c < 0x20; c++) if (c != '\t' && c != 0x1B) classes[c] = CONTROL;
        classes[d.field()] = FIELD;
        classes[d.repetition()] = REPETITION;
        classes[d.component()] = COMPONENT;
        classes[d.subcomponent()] = SUBCOMPONENT;
        return classes;
    }

    private static Shape shape(String segment, Delimiters d, byte[] classes) {
        boolean msh = segment.startsWith("MSH");
        int start = msh ? 4 + d.encodingCharacters().length() : 3; // MSH-1 and MSH-2 hold the delimiters themselves
        int field = msh ? 2 : 0;
        int components = 1;
        int subcomponents = 1;
        long values = 1;
        int crowded = 0;
        int control = -1;
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            byte kind = c < 128 ? classes[c] : PLAIN;
            if (kind == PLAIN) continue;
            if (kind == CONTROL) {
                if (control < 0) control = i;
                continue;
            }
            if (i < start) continue;
            switch (kind) {
                case FIELD, REPETITION -> {
                    if (kind == FIELD) field++;
                    components = 1;
                    subcomponents = 1;
                    values++;
                }
                case COMPONENT -> {
                    subcomponents = 1;
                    values++;
                    if (++components > MAX_COMPONENTS && crowded == 0) crowded = field;
                }
                default -> {
                    values++;
                    if (++subcomponents > MAX_COMPONENTS && crowded == 0) crowded = field;
                }
            }
        }
        return new Shape(control, values, crowded);
    }

    /** The 1-based sequence of segment {@code index} among the segments with its id. */
    private static int sequence(String[] segments, int index) {
        String segment = stripIndent(segments[index]);
        int sequence = 0;
        for (int i = 0; i <= index; i++) {
            String other = stripIndent(segments[i]);
            if (other.length() >= 3 && other.regionMatches(0, segment, 0, 3)) sequence++;
        }
        return sequence;
    }

    private static void checkHeaderFields(MshHeader header, List<Problem> problems) {
        if (header.messageType().isEmpty()) {
            problems.add(Problem.inMsh(ErrorCode.REQUIRED_FIELD_MISSING, 9, "MSH-9 (message type) is empty"));
        }
        String versionId = header.versionId();
        Optional<Hl7Version> version = header.version();
        if (versionId.isEmpty()) {
            problems.add(Problem.inMsh(ErrorCode.REQUIRED_FIELD_MISSING, 12, "MSH-12 (version id) is empty"));
        } else if (version.isEmpty()) {
            problems.add(Problem.inMshQuoting(ErrorCode.UNSUPPORTED_VERSION_ID, 12,
                    "MSH-12 version %s is not supported; this server accepts 2.1 to 2.8.x", versionId));
        }
        boolean triggerRequired = version.map(v -> v.isAtLeast(4, 0)).orElse(false) && !header.messageType().equals("ACK");
        if (triggerRequired && !header.messageType().isEmpty() && header.triggerEvent().isEmpty()) {
            problems.add(Problem.inMsh(ErrorCode.REQUIRED_FIELD_MISSING, 9,
                    "MSH-9.2 (trigger event) is empty; from v2.4 on it is required"));
        }
    }

    private static void checkTimestamps(MshHeader header, String[] segments, char fieldSeparator, List<Problem> problems) {
        checkTimestamp("MSH", 7, header.component(7, 1), problems);
        for (String segment : segments) {
            if (segmentId(stripIndent(segment)).equals("EVN")) {
                Delimiters d = header.delimiters().orElseThrow();
                String evn2 = MshHeader.nthPiece(stripIndent(segment), fieldSeparator, 3); // piece 1 is the segment id
                checkTimestamp("EVN", 2, MshHeader.firstPiece(MshHeader.firstPiece(evn2, d.repetition()), d.component()), problems);
                return;
            }
        }
    }

    private static void checkTimestamp(String segmentId, int field, String value, List<Problem> problems) {
        String timestamp = value.strip();
        if (timestamp.isEmpty() || timestamp.equals("\"\"")) return;
        if (!LOOSE_TIMESTAMP.matcher(timestamp).matches()) {
            problems.add(Problem.at(ErrorCode.DATA_TYPE_ERROR, segmentId, 1, field, segmentId + "-" + field
                    + " is not an HL7 timestamp (YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ])"));
        }
    }

    /** Leading spaces and tabs only: a control character is content to be refused, not whitespace. */
    static String stripIndent(String segment) {
        int i = indent(segment);
        return i == 0 ? segment : segment.substring(i);
    }

    private static int indent(String segment) {
        int i = 0;
        while (i < segment.length() && (segment.charAt(i) == ' ' || segment.charAt(i) == '\t')) i++;
        return i;
    }

    static String segmentId(String segment) {
        return segment.length() >= 3 ? segment.substring(0, 3) : segment;
    }

    private static boolean validSegmentId(String segment, char fieldSeparator) {
        if (segment.length() < 3) return false;
        for (int i = 0; i < 3; i++) {
            char c = segment.charAt(i);
            boolean upperOrDigit = (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
            if (!upperOrDigit) return false;
        }
        return segment.length() == 3 || segment.charAt(3) == fieldSeparator;
    }

    /** Which field position {@code index} falls in (the segment id is field 0; MSH counts from MSH-1). */
    private static int fieldNumber(String segment, int index, char separator) {
        int field = 0;
        for (int i = 0; i < index; i++) if (segment.charAt(i) == separator) field++;
        return segment.startsWith("MSH") ? field + 1 : field;
    }
}
