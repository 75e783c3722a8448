package org.mllpserver.audit;

import org.mllpserver.events.Events;
import org.mllpserver.journal.RefusedFrame;
import org.mllpserver.journal.StoredMessage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What one audit record says happened: never message content. Fields that do not apply to a
 * kind hold their {@code NONE} value. Built only by the factories below, each from one of the
 * facts {@link Events} reports (or from a journal record, when recovery rebuilds a lost one); the
 * factories bound every text field ({@link #MAX_FIELD_CHARS}, {@link #MAX_REASONS}), so a record
 * has a bounded size whatever a sender puts in MSH-10.
 *
 * @param time      when it happened (the event's own time; for a recovered frame, when it was received)
 * @param recovered rebuilt from the journal at start, because the crash came before its record was forced
 * @param detail    words for the operator (why a configuration loaded, an operator action's detail, ...)
 */
public record AuditEvent(AuditKind kind, Instant time, boolean recovered, Sender sender, Header header, Stored stored,
                         Payload payload, Answer answer, Attempts delivery, Operator operator, Optional<SegmentRef> segment,
                         String detail) {

    /**
     * Longest text kept in one field. MSH fields are far shorter (MSH-10 is at most 199
     * characters by the standard), TLS identities with their SANs fit; a longer value (a sender
     * stuffing MSH-10) is cut and marked, so that one record stays small.
     */
    public static final int MAX_FIELD_CHARS = 1_000;
    /** Most failed-rule names kept; beyond, the last entry says how many more failed. */
    public static final int MAX_REASONS = 16;
    private static final String CUT_MARK = "…";

    public AuditEvent {
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(time, "time");
        sender = sender == null ? Sender.NONE : sender;
        header = header == null ? Header.NONE : header;
        stored = stored == null ? Stored.NONE : stored;
        payload = payload == null ? Payload.NONE : payload;
        answer = answer == null ? Answer.NONE : answer;
        delivery = delivery == null ? Attempts.NONE : delivery;
        operator = operator == null ? Operator.NONE : operator;
        segment = segment == null ? Optional.empty() : segment;
        detail = bounded(detail);
    }

    /** Who sent: the peer's address and, with TLS, the client certificate's subject and SANs. */
    public record Sender(String address, String tlsIdentity) {
        public static final Sender NONE = new Sender("", "");

        public Sender {
            address = bounded(address);
            tlsIdentity = bounded(tlsIdentity);
        }
    }

    /** MSH-3, MSH-4, MSH-9 and MSH-10 as received. */
    public record Header(String sendingApplication, String sendingFacility, String messageType, String controlId) {
        public static final Header NONE = new Header("", "", "", "");

        public Header {
            sendingApplication = bounded(sendingApplication);
            sendingFacility = bounded(sendingFacility);
            messageType = bounded(messageType);
            controlId = bounded(controlId);
        }
    }

    /** The journal record it concerns, and its position (-1 when none). */
    public record Stored(Optional<UUID> recordId, long position) {
        public static final Stored NONE = new Stored(Optional.empty(), -1);
    }

    /**
     * A SHA-256 and a size: of the frame's payload; for {@code configuration_loaded}, of the
     * configuration that took effect (size -1).
     */
    public record Payload(Optional<Sha256> sha256, long bytes) {
        public static final Payload NONE = new Payload(Optional.empty(), -1);
    }

    /** The answer's MSA-1 (empty when not known or not a frame) and the failed rules or the refusal's reason. */
    public record Answer(String ackCode, List<String> reasons) {
        public static final Answer NONE = new Answer("", List.of());

        public Answer {
            ackCode = bounded(ackCode);
            reasons = boundedList(reasons);
        }
    }

    /** For a delivery outcome: the connector and how many attempts it took. */
    public record Attempts(String connector, int attempts) {
        public static final Attempts NONE = new Attempts("", 0);

        public Attempts {
            connector = bounded(connector);
        }
    }

    /** For an operator action: who (control socket uid or admin client), what, and the dead letter concerned. */
    public record Operator(String who, String action, Optional<UUID> deadLetterId) {
        public static final Operator NONE = new Operator("", "", Optional.empty());

        public Operator {
            who = bounded(who);
            action = bounded(action);
        }
    }

    /** A segment file's records (first and last sequence number) and its last record's hash: what retention deleted. */
    public record SegmentRef(long firstSeq, long lastSeq, Sha256 lastHash) {}

    // --- from the events ----------------------------------------------------------------------

    /** A frame's outcome; the payload's hash is filled in later, by the writer ({@link #withPayload}). */
    static AuditEvent frame(Events.FrameAnswered e) {
        return new AuditEvent(frameKind(e.outcome()), e.at(), false, new Sender(e.peer(), e.tlsIdentity()),
                new Header(e.sendingApplication(), e.sendingFacility(), e.messageType(), e.controlId()),
                new Stored(e.recordId() == null ? Optional.empty() : e.recordId(), e.position()), Payload.NONE,
                new Answer(e.ackCode(), e.reasons()), Attempts.NONE, Operator.NONE, Optional.empty(), "");
    }

    static AuditKind frameKind(Events.FrameOutcome outcome) {
        return switch (outcome) {
            case ACCEPTED -> AuditKind.ACCEPTED;
            case DUPLICATE -> AuditKind.DUPLICATE;
            case REFUSED -> AuditKind.REFUSED;
            case REJECTED -> AuditKind.REJECTED;
            case RULE_ERROR -> AuditKind.RULE_ERROR;
            case STORAGE_FAILED -> AuditKind.STORAGE_FAILED;
        };
    }

    /** A delivery's final outcome; empty for a RETRY, which needs no record. */
    static Optional<AuditEvent> delivery(Events.Delivery e) {
        AuditKind kind = switch (e.outcome()) {
            case DELIVERED -> AuditKind.DELIVERED;
            case DEAD_LETTER -> AuditKind.DEAD_LETTER;
            case RETRY -> null;
        };
        if (kind == null) return Optional.empty();
        List<String> reasons = e.reason() == null || e.reason().isEmpty() ? List.of() : List.of(e.reason());
        return Optional.of(new AuditEvent(kind, e.at(), false, Sender.NONE, new Header("", "", e.messageType(), e.controlId()),
                new Stored(Optional.ofNullable(e.recordId()), e.position()), Payload.NONE, new Answer("", reasons),
                new Attempts(e.connector(), e.attempt()), Operator.NONE, Optional.empty(), ""));
    }

    static AuditEvent operator(Events.OperatorAction e) {
        return new AuditEvent(AuditKind.OPERATOR_ACTION, e.at(), false, Sender.NONE, Header.NONE,
                new Stored(e.recordId() == null ? Optional.empty() : e.recordId(), -1), Payload.NONE, Answer.NONE, Attempts.NONE,
                new Operator(e.who(), e.action(), e.deadLetterId() == null ? Optional.empty() : e.deadLetterId()),
                Optional.empty(), e.detail());
    }

    static AuditEvent configuration(Events.ConfigurationLoaded e) {
        Optional<Sha256> hash = Optional.empty();
        String detail = e.why();
        try {
            hash = Optional.of(Sha256.parse(e.sha256()));
        } catch (RuntimeException notAHash) {
            detail = "configuration hash " + e.sha256() + ": " + e.why(); // kept, in words, rather than lost
        }
        return internal(AuditKind.CONFIGURATION_LOADED, e.at(), detail).withPayload(new Payload(hash, -1));
    }

    static AuditEvent tls(Events.TlsReloaded e) {
        return internal(e.ok() ? AuditKind.TLS_RELOADED : AuditKind.TLS_RELOAD_FAILED, e.at(), e.why());
    }

    // --- from the journal, when recovery rebuilds a record a crash lost ------------------------

    static AuditEvent recovered(StoredMessage m, long position) {
        return new AuditEvent(AuditKind.ACCEPTED, m.receivedAt(), true, new Sender(m.peer(), m.tlsIdentity()),
                new Header(m.sendingApplication(), m.sendingFacility(), m.messageType(), m.controlId()),
                new Stored(Optional.of(m.id()), position), Payload.NONE, Answer.NONE, Attempts.NONE, Operator.NONE,
                Optional.empty(), "recovered from the journal: stored before a crash; its answer (AA, or CA) is not recorded");
    }

    static AuditEvent recovered(RefusedFrame f, long position) {
        return new AuditEvent(AuditKind.REFUSED, f.receivedAt(), true, new Sender(f.peer(), f.tlsIdentity()),
                new Header("", "", "", f.controlId()), new Stored(Optional.of(f.id()), position), Payload.NONE,
                new Answer("", List.of(f.reason())), Attempts.NONE, Operator.NONE, Optional.empty(),
                "recovered from the journal: kept before a crash; refused, rejected or a rule error (AE or AR): the journal keeps the reason, not the answer");
    }

    // --- the audit's own records ---------------------------------------------------------------

    static AuditEvent internal(AuditKind kind, Instant time, String detail) {
        return new AuditEvent(kind, time, false, Sender.NONE, Header.NONE, Stored.NONE, Payload.NONE, Answer.NONE,
                Attempts.NONE, Operator.NONE, Optional.empty(), detail);
    }

    /** The seal written at a clean close; {@code journalEnd} is the journal's end then, or -1 when not known. */
    static AuditEvent sealed(Instant time, long journalEnd) {
        return new AuditEvent(AuditKind.AUDIT_CLOSED, time, false, Sender.NONE, Header.NONE,
                journalEnd < 0 ? Stored.NONE : new Stored(Optional.empty(), journalEnd), Payload.NONE, Answer.NONE,
                Attempts.NONE, Operator.NONE, Optional.empty(), journalEnd < 0 ? "closed cleanly" : "closed cleanly after the journal");
    }

    static AuditEvent segmentDeleted(Instant time, SegmentRef ref, String detail) {
        return new AuditEvent(AuditKind.SEGMENT_DELETED, time, false, Sender.NONE, Header.NONE, Stored.NONE, Payload.NONE,
                Answer.NONE, Attempts.NONE, Operator.NONE, Optional.of(ref), detail);
    }

    AuditEvent withPayload(Payload p) {
        return new AuditEvent(kind, time, recovered, sender, header, stored, p, answer, delivery, operator, segment, detail);
    }

    // --- bounds --------------------------------------------------------------------------------

    /** At most {@link #MAX_FIELD_CHARS} characters (cut and marked), never null. */
    static String bounded(String text) {
        if (text == null) return "";
        if (text.length() <= MAX_FIELD_CHARS) return text;
        int cut = MAX_FIELD_CHARS - CUT_MARK.length();
        if (Character.isHighSurrogate(text.charAt(cut - 1))) cut--; // never half a character
        return text.substring(0, cut) + CUT_MARK;
    }

    private static List<String> boundedList(List<String> texts) {
        if (texts == null) return List.of();
        List<String> kept = new ArrayList<>(Math.min(texts.size(), MAX_REASONS));
        for (String text : texts) {
            if (kept.size() == MAX_REASONS - 1 && texts.size() > MAX_REASONS) {
                kept.add("and " + (texts.size() - kept.size()) + " more");
                break;
            }
            kept.add(bounded(text));
        }
        return List.copyOf(kept);
    }
}
