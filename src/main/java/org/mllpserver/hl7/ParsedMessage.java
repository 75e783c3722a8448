package org.mllpserver.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.util.Terser;

import java.util.List;
import java.util.Optional;

/**
 * A message that passed the checks: its header and its segments in order. HAPI parses a segment
 * (fields, repetitions, components, escapes) when a value of it is first read, and keeps it.
 * HAPI's types stay inside this package; the rules (a later issue) read values through methods
 * here.
 *
 * <p>Not thread-safe: a message belongs to the connection thread handling it.
 */
public final class ParsedMessage {

    private final MshHeader header;
    private final Hl7Version version;
    private final List<String> segments;
    private final Segment[] parsed;
    private final MessageReader hapi;

    ParsedMessage(MshHeader header, Hl7Version version, List<String> segments, MessageReader hapi) {
        this.header = header;
        this.version = version;
        this.segments = segments;
        this.parsed = new Segment[segments.size()];
        this.hapi = hapi;
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
