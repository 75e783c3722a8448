package org.mllpserver.audit;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What an audit record is about. The code is the byte on disk and the name is the {@code event}
 * field of the export: neither ever changes meaning.
 */
public enum AuditKind {
    /** A frame stored in the journal and answered AA (CA). */
    ACCEPTED(1),
    /** A frame accepted before within DEDUP_WINDOW: answered as then, not stored again. */
    DUPLICATE(2),
    /** A frame that was not acceptable HL7 (or too large): kept raw in the journal, answered AE. */
    REFUSED(3),
    /** A frame that failed a validation rule: kept raw, answered AR (or as configured). */
    REJECTED(4),
    /** A frame whose rules could not be evaluated: kept raw, answered AE. */
    RULE_ERROR(5),
    /** A frame the journal could not store: answered AE, not kept. */
    STORAGE_FAILED(6),
    /** A record delivered to a connector. */
    DELIVERED(7),
    /** A record a connector gave up on: it became a dead letter. */
    DEAD_LETTER(8),
    /** Something an operator did (dead letter replay or purge, content shown, ...). */
    OPERATOR_ACTION(9),
    /** A configuration took effect (at start or on reload). */
    CONFIGURATION_LOADED(10),
    /** The TLS files were reloaded. */
    TLS_RELOADED(11),
    /** A TLS reload failed; the previous files stay in use. */
    TLS_RELOAD_FAILED(12),
    /** The first record of every segment file: binds the file to the chain before it. */
    SEGMENT_STARTED(13),
    /** Retention is deleting a segment: written, and forced, before the file is deleted. */
    SEGMENT_DELETED(14),
    /** At start, the incomplete last write of a crash was cut off the last segment. */
    TAIL_REPAIRED(15),
    /** The audit was closed cleanly: the seal after the last write. */
    AUDIT_CLOSED(16);

    private final byte code;

    AuditKind(int code) {
        this.code = (byte) code;
    }

    byte code() {
        return code;
    }

    /** The export's name: {@code accepted}, {@code dead_letter}, ... */
    public String externalName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** True for the outcomes that leave a journal record (MESSAGE or REFUSED_FRAME), which recovery can rebuild. */
    public boolean leavesJournalRecord() {
        return this == ACCEPTED || this == REFUSED || this == REJECTED || this == RULE_ERROR;
    }

    static Optional<AuditKind> ofCode(byte code) {
        return Arrays.stream(values()).filter(k -> k.code == code).findFirst();
    }

    /** The kind with this external name (case-insensitive), for the commands' {@code --event}. */
    public static Optional<AuditKind> ofName(String name) {
        return Arrays.stream(values()).filter(k -> k.externalName().equalsIgnoreCase(name.strip())).findFirst();
    }

    /** Every external name, for a usage message. */
    public static String names() {
        return Arrays.stream(values()).map(AuditKind::externalName).collect(Collectors.joining(", "));
    }
}
