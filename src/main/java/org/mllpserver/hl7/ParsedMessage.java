package org.mllpserver.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.parser.EncodingCharacters;
import ca.uhn.hl7v2.parser.Escape;
import ca.uhn.hl7v2.util.Terser;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A message that passed the checks: its header and its segments in order.
 *
 * <p>Two ways to read a value. {@link #get} (what the rules use) splits a segment on the
 * message's own delimiters once and decodes escapes with HAPI's {@link Escape}: about a
 * microsecond for a whole OBX. {@link #value} has HAPI parse the segment into its generic model
 * (fields, repetitions, components, escapes) when a value of it is first read: a few
 * microseconds per segment. They agree on every value of the public sample corpus (pinned by a
 * test). HAPI's types stay inside this package.
 *
 * <p>Not thread-safe: a message belongs to the connection thread handling it.
 */
public final class ParsedMessage {

    private final MshHeader header;
    private final Hl7Version version;
    private final List<String> segments;
    private final Segment[] parsed;
    private final MessageReader hapi;
    private final String[][] fields;
    private Map<String, int[]> segmentsById;
    private EncodingCharacters encoding;

    ParsedMessage(MshHeader header, Hl7Version version, List<String> segments, MessageReader hapi) {
        this.header = header;
        this.version = version;
        this.segments = segments;
        this.parsed = new Segment[segments.size()];
        this.hapi = hapi;
        this.fields = new String[segments.size()][];
    }

    public MshHeader header() {
        return header;
    }

    public Hl7Version version() {
        return version;
    }

    public int segmentCount() {
        return segments.size();
    }

    /**
     * A value with HL7 escapes decoded: field {@code field}, first repetition, component and
     * subcomponent as given (1-based), of the {@code occurrence}-th segment named {@code id}
     * (1-based). Empty when there is no such segment or value.
     */
    public Optional<String> value(String id, int occurrence, int field, int component, int subcomponent) {
        int seen = 0;
        for (int i = 0; i < segments.size(); i++) {
            if (!segments.get(i).startsWith(id) || ++seen < occurrence) continue;
            try {
                return Optional.ofNullable(Terser.get(segment(i), field, 0, component, subcomponent)).filter(v -> !v.isEmpty());
            } catch (HL7Exception | RuntimeException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** The id of the {@code index}-th segment (0-based). */
    public String segmentId(int index) {
        return MessageChecks.segmentId(segments.get(index));
    }

    /** How many segments named {@code id} the message holds. */
    public int count(String id) {
        return indexOf(id).length;
    }

    /** The value at {@code path} with HL7 escapes decoded; "" when the message has no such value. */
    public String get(FieldPath path) {
        return get(path.segment(), path.occurrence(), path.field(), path.repetition(), path.component(), path.subcomponent());
    }

    /**
     * The value of the {@code occurrence}-th segment named {@code id}, at field, repetition,
     * component and subcomponent (all 1-based), with HL7 escapes decoded; "" when there is none.
     * MSH-1 is the field separator and MSH-2 the encoding characters, as in the standard.
     */
    public String get(String id, int occurrence, int field, int repetition, int component, int subcomponent) {
        String raw = fieldText(id, occurrence, field);
        if (raw.isEmpty()) return "";
        if (id.equals("MSH") && field <= 2) return repetition == 1 && component == 1 && subcomponent == 1 ? raw : "";
        Delimiters d = header.delimiters().orElseThrow();
        String value = MshHeader.nthPiece(MshHeader.nthPiece(MshHeader.nthPiece(raw, d.repetition(), repetition), d.component(), component),
                d.subcomponent(), subcomponent);
        if (value.indexOf(d.escape()) < 0) return value;
        if (encoding == null) encoding = new EncodingCharacters(d.field(), d.encodingCharacters().substring(0, 4));
        return Escape.unescape(value, encoding);
    }

    /** How many repetitions field {@code field} of that segment has (0 when it is empty or absent). */
    public int repetitions(String id, int occurrence, int field) {
        String raw = fieldText(id, occurrence, field);
        if (raw.isEmpty()) return 0;
        if (id.equals("MSH") && field <= 2) return 1;
        char separator = header.delimiters().orElseThrow().repetition();
        int n = 1;
        for (int i = raw.indexOf(separator); i >= 0; i = raw.indexOf(separator, i + 1)) n++;
        return n;
    }

    private String fieldText(String id, int occurrence, int field) {
        int[] positions = indexOf(id);
        if (occurrence < 1 || occurrence > positions.length || field < 1) return "";
        int index = positions[occurrence - 1];
        if (id.equals("MSH") && field == 1) return String.valueOf(header.delimiters().orElseThrow().field());
        String[] split = fields[index];
        if (split == null) {
            split = fields[index] = split(segments.get(index), header.delimiters().orElseThrow().field());
        }
        int at = id.equals("MSH") ? field - 1 : field; // MSH-1 is the separator itself, so MSH-2 is the first piece after the id
        return at < split.length ? split[at] : "";
    }

    private int[] indexOf(String id) {
        if (segmentsById == null) {
            Map<String, List<Integer>> found = new HashMap<>();
            for (int i = 0; i < segments.size(); i++) {
                found.computeIfAbsent(MessageChecks.segmentId(segments.get(i)), k -> new ArrayList<>()).add(i);
            }
            segmentsById = new HashMap<>();
            found.forEach((k, v) -> segmentsById.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
        }
        return segmentsById.getOrDefault(id, NONE);
    }

    private static final int[] NONE = new int[0];

    private static String[] split(String text, char separator) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        for (int i = text.indexOf(separator); i >= 0; i = text.indexOf(separator, start)) {
            pieces.add(text.substring(start, i));
            start = i + 1;
        }
        pieces.add(text.substring(start));
        return pieces.toArray(String[]::new);
    }

    /**
     * Parses every segment with HAPI now; returns how many. For tests and benchmarks that need
     * the whole model (the server itself parses only what it reads).
     */
    public int parseAllSegments() throws HL7Exception {
        for (int i = 0; i < segments.size(); i++) segment(i);
        return segments.size();
    }

    private Segment segment(int index) throws HL7Exception {
        if (parsed[index] == null) {
            parsed[index] = hapi.parseSegment(version, header.delimiters().orElseThrow(), segments.get(index));
        }
        return parsed[index];
    }
}
