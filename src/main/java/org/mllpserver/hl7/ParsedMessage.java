package org.mllpserver.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.util.Terser;

import java.util.List;
import java.util.Optional;

/**
 * A message that passed the checks and HAPI's parse: its header and its segments in order, each
 * parsed by HAPI (fields, repetitions, components, escapes). HAPI's types stay inside this
 * package; the rules (a later issue) read values through methods here.
 */
public final class ParsedMessage {

    private final MshHeader header;
    private final Hl7Version version;
    private final List<Segment> segments;

    ParsedMessage(MshHeader header, Hl7Version version, List<Segment> segments) {
        this.header = header;
        this.version = version;
        this.segments = segments;
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
        for (Segment segment : segments) {
            if (!segment.getName().equals(id) || ++seen < occurrence) continue;
            try {
                return Optional.ofNullable(Terser.get(segment, field, 0, component, subcomponent)).filter(v -> !v.isEmpty());
            } catch (HL7Exception | RuntimeException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
