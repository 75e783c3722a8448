package org.mllpserver.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Version;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.parser.DefaultModelClassFactory;
import ca.uhn.hl7v2.parser.ModelClassFactory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which segments a message structure requires, read from HAPI's v2.5 structure definitions: the
 * required segments of the message, and of each required group, recursively. A structure HAPI
 * does not define (Z messages, say) requires nothing. The v2.5 definitions stand in for every
 * version: what they require (MSH, EVN, PID, PV1 for ADT_A01; MSH, OBR for ORU_R01) has been
 * required since v2.1.
 *
 * <p>Thread-safe; each structure is looked up once.
 */
final class RequiredSegments {

    /** ACK, ADT_A01, ORU_R01 ...: three letters or digits, optionally "_" and three more. */
    private static final java.util.regex.Pattern STRUCTURE_NAME = java.util.regex.Pattern.compile("[A-Z][A-Z0-9]{2}(_[A-Z0-9]{3})?");

    private final DefaultModelClassFactory factory = new DefaultModelClassFactory();
    private final Map<String, String> eventToStructure;
    private final Map<String, Optional<Requirement>> cache = new ConcurrentHashMap<>();

    /** A structure and the segment ids it requires. */
    record Requirement(String structure, Set<String> segmentIds) {}

    RequiredSegments() {
        try {
            this.eventToStructure = factory.getEventMapForVersion(Version.V25);
        } catch (HL7Exception e) {
            throw new IllegalStateException("hapi-structures-v25 has no event map", e);
        }
    }

    /**
     * The requirement for a message type, trigger and (optional) structure from MSH-9. Only names
     * shaped like HL7 structures are looked up (and cached), so senders cannot grow the cache
     * with arbitrary MSH-9 values: it holds at most the structures HAPI defines plus misses of
     * that shape.
     */
    Optional<Requirement> forMessage(String type, String trigger, String structure) {
        String name = structureName(type, trigger, structure);
        if (!STRUCTURE_NAME.matcher(name).matches()) return Optional.empty();
        return cache.computeIfAbsent(name, this::load);
    }

    int cachedStructures() {
        return cache.size();
    }

    private String structureName(String type, String trigger, String structure) {
        if (!structure.isEmpty()) return structure;
        if (type.equals("ACK")) return "ACK";
        if (type.isEmpty() || trigger.isEmpty()) return "";
        String event = type + "_" + trigger;
        return eventToStructure.getOrDefault(event, event);
    }

    private Optional<Requirement> load(String structure) {
        try {
            Class<? extends Message> type = factory.getMessageClass(structure, Version.V25.getVersion(), true);
            if (type == null) return Optional.empty();
            Message message = type.getConstructor(ModelClassFactory.class).newInstance(factory);
            Set<String> required = new LinkedHashSet<>();
            collect(message, required);
            return Optional.of(new Requirement(structure, required));
        } catch (HL7Exception | ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void collect(Group group, Set<String> required) throws HL7Exception {
        for (String name : group.getNames()) {
            if (!group.isRequired(name)) continue;
            Structure child = group.get(name);
            if (child instanceof Group nested) collect(nested, required);
            else required.add(child.getName());
        }
    }

    /** Problems for required segments missing from {@code presentIds}. */
    static List<Problem> missing(Requirement requirement, Set<String> presentIds) {
        List<Problem> problems = new ArrayList<>();
        for (String id : requirement.segmentIds()) {
            if (!presentIds.contains(id)) {
                problems.add(Problem.at(ErrorCode.SEGMENT_SEQUENCE_ERROR, id, 1, 0,
                        "message structure " + requirement.structure() + " requires a " + id + " segment, which is missing"));
            }
        }
        return problems;
    }
}
