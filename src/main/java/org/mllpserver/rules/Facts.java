package org.mllpserver.rules;

import org.mllpserver.hl7.ParsedMessage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The values rules read, taken from a message: the CEL variables {@code msh}, {@code pid},
 * {@code pv1}, {@code obx}, {@code obx_list}. Only the variables some expression refers to are
 * read; the others are bound empty (CEL needs every declared variable bound).
 */
final class Facts {

    static final String MSH = "msh";
    static final String PID = "pid";
    static final String PV1 = "pv1";
    static final String OBX = "obx";
    static final String OBX_LIST = "obx_list";
    static final List<String> VARIABLES = List.of(MSH, PID, PV1, OBX, OBX_LIST);

    static final Msh EMPTY_MSH = new Msh("", "", "", "", "", "", "", "", "", "", "", "");
    static final Pid EMPTY_PID = new Pid("", List.of(), "", "", "", "", "", "");
    static final Pv1 EMPTY_PV1 = new Pv1("", "", "", "", "");
    static final Obx EMPTY_OBX = new Obx("", "", "", "", "", "", "", "", "", "");

    private Facts() {}

    /** The variables for one evaluation; those not in {@code used} are empty. */
    static Map<String, Object> of(ParsedMessage m, Set<String> used) {
        Map<String, Object> vars = new HashMap<>(8);
        vars.put(MSH, used.contains(MSH) ? msh(m) : EMPTY_MSH);
        vars.put(PID, used.contains(PID) ? pid(m) : EMPTY_PID);
        vars.put(PV1, used.contains(PV1) ? pv1(m) : EMPTY_PV1);
        vars.put(OBX, used.contains(OBX) && m.count("OBX") > 0 ? obx(m, 1) : EMPTY_OBX);
        vars.put(OBX_LIST, used.contains(OBX_LIST) ? obxList(m) : List.of());
        return vars;
    }

    static Msh msh(ParsedMessage m) {
        return new Msh(v(m, "MSH", 3, 1), v(m, "MSH", 4, 1), v(m, "MSH", 5, 1), v(m, "MSH", 6, 1),
                v(m, "MSH", 9, 1), v(m, "MSH", 9, 2), v(m, "MSH", 9, 3), v(m, "MSH", 10, 1), v(m, "MSH", 11, 1),
                v(m, "MSH", 12, 1), v(m, "MSH", 7, 1), v(m, "MSH", 18, 1));
    }

    static Pid pid(ParsedMessage m) {
        if (m.count("PID") == 0) return EMPTY_PID;
        int repetitions = m.repetitions("PID", 1, 3);
        List<String> ids = new ArrayList<>(repetitions);
        for (int r = 1; r <= repetitions; r++) {
            String id = m.get("PID", 1, 3, r, 1, 1);
            if (!id.isEmpty()) ids.add(id);
        }
        return new Pid(m.get("PID", 1, 3, 1, 1, 1), List.copyOf(ids), m.get("PID", 1, 3, 1, 4, 1),
                v(m, "PID", 5, 1), v(m, "PID", 5, 2), v(m, "PID", 7, 1), v(m, "PID", 8, 1), v(m, "PID", 18, 1));
    }

    static Pv1 pv1(ParsedMessage m) {
        if (m.count("PV1") == 0) return EMPTY_PV1;
        return new Pv1(v(m, "PV1", 2, 1), v(m, "PV1", 3, 1), v(m, "PV1", 7, 1), v(m, "PV1", 44, 1), v(m, "PV1", 19, 1));
    }

    static Obx obx(ParsedMessage m, int occurrence) {
        return new Obx(m.get("OBX", occurrence, 1, 1, 1, 1), m.get("OBX", occurrence, 2, 1, 1, 1),
                m.get("OBX", occurrence, 3, 1, 1, 1), m.get("OBX", occurrence, 3, 1, 2, 1),
                m.get("OBX", occurrence, 5, 1, 1, 1), m.get("OBX", occurrence, 6, 1, 1, 1),
                m.get("OBX", occurrence, 7, 1, 1, 1), m.get("OBX", occurrence, 8, 1, 1, 1),
                m.get("OBX", occurrence, 11, 1, 1, 1), m.get("OBX", occurrence, 14, 1, 1, 1));
    }

    static List<Obx> obxList(ParsedMessage m) {
        int n = m.count("OBX");
        List<Obx> list = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) list.add(obx(m, i));
        return list;
    }

    /** First occurrence, first repetition, subcomponent 1. */
    private static String v(ParsedMessage m, String segment, int field, int component) {
        return m.get(segment, 1, field, 1, component, 1);
    }
}
