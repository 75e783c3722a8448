package org.mllpserver.telemetry;

import java.util.Arrays;
import java.util.List;

/**
 * HL7 table 0076 (message type) as of v2.5, the only values the {@code msg_type} attribute takes
 * besides {@code other}: MSH-9.1 comes from the sender, and a metric attribute taken from input
 * unchecked would let any sender create series without end.
 *
 * <p>Looking a type up allocates nothing: every code is three capital letters, packed into an
 * int and found by binary search.
 */
final class MessageTypes {

    /**
     * HL7 v2.5 table 0076, including the codes it keeps for backward compatibility only (ARD, CNQ,
     * MCF). Cross-checked: every message structure HAPI's v2.5 model defines starts with one of
     * these; the FHIR code system v2-0076 (v2.8.2) is a superset.
     */
    static final List<String> TABLE_0076 = List.of(
            "ACK", "ADR", "ADT", "ARD", "BAR", "BPS", "BRP", "BRT", "BTS", "CNQ", "CRM", "CSU", "DFT", "DOC", "DSR",
            "EAC", "EAN", "EAR", "EDR", "EQQ", "ERP", "ESR", "ESU", "INR", "INU", "LSR", "LSU", "MCF", "MDM", "MFD",
            "MFK", "MFN", "MFQ", "MFR", "NMD", "NMQ", "NMR", "OMB", "OMD", "OMG", "OMI", "OML", "OMN", "OMP", "OMS",
            "ORB", "ORD", "ORF", "ORG", "ORI", "ORL", "ORM", "ORN", "ORP", "ORR", "ORS", "ORU", "OSQ", "OSR", "OUL",
            "PEX", "PGL", "PIN", "PMU", "PPG", "PPP", "PPR", "PPT", "PPV", "PRR", "PTR", "QBP", "QCK", "QCN", "QRY",
            "QSB", "QSX", "QVR", "RAR", "RAS", "RCI", "RCL", "RDE", "RDR", "RDS", "RDY", "REF", "RER", "RGR", "RGV",
            "ROC", "ROR", "RPA", "RPI", "RPL", "RPR", "RQA", "RQC", "RQI", "RQP", "RQQ", "RRA", "RRD", "RRE", "RRG",
            "RRI", "RSP", "RTB", "SIU", "SPQ", "SQM", "SQR", "SRM", "SRR", "SSR", "SSU", "SUR", "TBR", "TCR", "TCU",
            "UDM", "VQQ", "VXQ", "VXR", "VXU", "VXX");
    static final String OTHER = "other";
    /** The index {@link #index} gives anything not in the table. */
    static final int OTHER_INDEX = TABLE_0076.size();

    private static final int[] PACKED = TABLE_0076.stream().mapToInt(code -> pack(code)).toArray();

    static {
        // Binary search needs the order, and a code listed twice would be two series of one name.
        if (!Arrays.equals(PACKED, Arrays.stream(PACKED).sorted().distinct().toArray())) {
            throw new IllegalStateException("TABLE_0076 must be sorted and without repeats");
        }
    }

    private MessageTypes() {
    }

    /** The message type's name for an index from {@link #index}. */
    static String name(int index) {
        return index == OTHER_INDEX ? OTHER : TABLE_0076.get(index);
    }

    /**
     * The table index of MSH-9.1 in {@code messageType} ({@code ADT}, or a whole MSH-9 such as
     * {@code ADT^A01^ADT_A01}: whatever follows the code after a separator is ignored), or
     * {@link #OTHER_INDEX}.
     */
    static int index(String messageType) {
        if (messageType == null || messageType.length() < 3) return OTHER_INDEX;
        if (messageType.length() > 3 && Character.isLetterOrDigit(messageType.charAt(3))) return OTHER_INDEX;
        int packed = pack(messageType);
        if (packed < 0) return OTHER_INDEX;
        int found = Arrays.binarySearch(PACKED, packed);
        return found >= 0 ? found : OTHER_INDEX;
    }

    /** The first three characters as 5-bit letters in an int, or -1 when one is not A-Z. */
    private static int pack(String code) {
        int packed = 0;
        for (int i = 0; i < 3; i++) {
            char c = code.charAt(i);
            if (c < 'A' || c > 'Z') return -1;
            packed = packed << 5 | (c - 'A');
        }
        return packed;
    }
}
