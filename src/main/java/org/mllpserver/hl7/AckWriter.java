package org.mllpserver.hl7;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Builds acknowledgements as docs/hl7-conformance.md describes, from our own reading of the
 * inbound MSH (HAPI's {@code generateACK} drops HD components and writes an id file).
 *
 * <ul>
 *   <li>MSH-1/MSH-2: the inbound delimiters; the standard ones when the inbound are unusable.
 *   <li>MSH-3/4 = inbound MSH-5/6 and MSH-5/6 = inbound MSH-3/4, whole fields with every
 *       component, unless the operator set the server's own application/facility.
 *   <li>MSH-7 now; MSH-9 {@code ACK^<inbound trigger>^ACK}; MSH-10 a new id ({@link ControlIds});
 *       MSH-11/12 copied (MSH-12 is 2.5 when the inbound version is missing or unsupported, so
 *       the reply is still valid HL7); no MSH-15/16; MSH-18 names the charset the reply is
 *       encoded in (from v2.3, which defined MSH-18).
 *   <li>MSA-2 = inbound MSH-10 exactly (even empty), or a generated id when MSH is unreadable;
 *       MSA-3 a short text on errors.
 *   <li>ERR on every answer other than AA/CA: from v2.5 one ERR per problem with ERR-2 location,
 *       ERR-3 {@code code^text^HL70357}, ERR-4 {@code E}, ERR-8 the message; before v2.5 ERR-1
 *       (ELD) repeated per problem.
 *   <li>Enhanced mode (MSH-15 or MSH-16 valued): CA/CE/CR, sent as MSH-15 asks (AL always, NE
 *       never, ER only on error, SU only on success; empty or unknown: always, since a sender
 *       must never be left waiting).
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class AckWriter {

    /**
     * @param sendingApplication MSH-3 of every reply, written with {@code ^} and {@code &};
     *                           empty to answer with the inbound MSH-5
     * @param sendingFacility    MSH-4 of every reply, likewise; empty for the inbound MSH-6
     */
    public record Settings(String sendingApplication, String sendingFacility) {}

    /** The answer to one frame; {@code bytes} is empty when the sender asked for no answer. */
    public record Reply(AckCode code, String acknowledgedId, Optional<byte[]> bytes) {}

    /** Short enough for MSA-3 (ST, 80 characters) in every version. */
    static final int MSA_3_MAX = 80;
    /** ERR-8 is TX 250 in v2.5. */
    static final int ERR_8_MAX = 250;
    private static final String FALLBACK_VERSION = "2.5";
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmssZ");

    private final Settings settings;
    private final ControlIds controlIds;
    private final Clock clock;
    private volatile Stamp lastStamp;

    public AckWriter(Settings settings, ControlIds controlIds, Clock clock) {
        this.settings = settings;
        this.controlIds = controlIds;
        this.clock = clock;
    }

    /**
     * The reply to a frame read as {@code read}, whose outcome in original-mode terms is
     * {@code code}; {@code problems} say why when it is not AA.
     */
    public Reply reply(MessageReader.Result read, AckCode code, List<Problem> problems) {
        Optional<MshHeader> inbound = read.header();
        Decoding.Decoded decoding = read.decoding();
        boolean enhanced = read.ackModeApplies()
                && inbound.map(h -> !h.acceptAckType().isEmpty() || !h.applicationAckType().isEmpty()).orElse(false);
        AckCode sent = enhanced ? code.toAccept() : code;
        String acknowledgedId = inbound.map(AckWriter::acknowledgedId).orElseGet(controlIds::next);
        if (enhanced && !replyWanted(inbound.get().acceptAckType(), sent)) {
            return new Reply(sent, acknowledgedId, Optional.empty());
        }
        String text = build(inbound, sent, acknowledgedId, problems, decoding.replyMsh18());
        return new Reply(sent, acknowledgedId, Optional.of(text.getBytes(decoding.replyCharset())));
    }

    private static boolean replyWanted(String acceptAckType, AckCode code) {
        return switch (acceptAckType) {
            case "NE" -> false;
            case "ER" -> !code.isPositive();
            case "SU" -> code.isPositive();
            default -> true; // AL, empty or unknown
        };
    }

    private String build(Optional<MshHeader> inbound, AckCode code, String acknowledgedId, List<Problem> problems,
                         String msh18) {
        Delimiters d = inbound.flatMap(MshHeader::delimiters).orElse(Delimiters.STANDARD);
        Optional<Hl7Version> version = inbound.flatMap(MshHeader::version);
        StringBuilder out = new StringBuilder(256);
        out.append(msh(inbound, d, version.isPresent(), msh18)).append('\r');
        out.append(msa(code, acknowledgedId, problems, d)).append('\r');
        if (!code.isPositive()) {
            boolean structured = version.map(Hl7Version::hasStructuredErr).orElse(true);
            for (String err : structured ? errV25(problems, d) : errBeforeV25(problems, d)) out.append(err).append('\r');
        }
        return out.toString();
    }

    private String msh(Optional<MshHeader> inbound, Delimiters d, boolean versionSupported, String msh18) {
        List<String> fields = new ArrayList<>(18);
        fields.add(own(settings.sendingApplication(), d).orElseGet(() -> copied(inbound, 5, d)));
        fields.add(own(settings.sendingFacility(), d).orElseGet(() -> copied(inbound, 6, d)));
        fields.add(copied(inbound, 3, d));
        fields.add(copied(inbound, 4, d));
        fields.add(timestamp());
        fields.add("");
        String trigger = inbound.map(MshHeader::triggerEvent).orElse("");
        fields.add("ACK" + d.component() + d.escape(trigger) + d.component() + "ACK");
        fields.add(controlIds.next());
        fields.add(copied(inbound, 11, d));
        fields.add(versionSupported ? copied(inbound, 12, d) : FALLBACK_VERSION);
        for (int field = 13; field <= 17; field++) fields.add("");
        boolean hasMsh18 = inbound.flatMap(MshHeader::version).map(v -> v.isAtLeast(3, 0)).orElse(true);
        fields.add(hasMsh18 ? d.escape(msh18) : "");
        return "MSH" + d.field() + d.encodingCharacters() + d.field() + joinTrimmed(fields, d.field());
    }

    private static String msa(AckCode code, String acknowledgedId, List<Problem> problems, Delimiters d) {
        String msa = "MSA" + d.field() + code + d.field() + acknowledgedId;
        if (code.isPositive() || problems.isEmpty()) return msa;
        return msa + d.field() + d.escape(problems.getFirst().message(), MSA_3_MAX);
    }

    /** MSH-7: formatted once per second, not once per ACK. */
    private String timestamp() {
        long second = clock.millis() / 1000;
        Stamp last = lastStamp;
        if (last == null || last.second() != second) {
            last = new Stamp(second, ZonedDateTime.ofInstant(java.time.Instant.ofEpochSecond(second), clock.getZone()).format(TIMESTAMP));
            lastStamp = last;
        }
        return last.text();
    }

    private record Stamp(long second, String text) {}

    private static List<String> errV25(List<Problem> problems, Delimiters d) {
        List<String> segments = new ArrayList<>();
        for (Problem p : problems) {
            char f = d.field();
            char c = d.component();
            String location = p.location().map(l -> erl(l, c)).orElse("");
            String code = p.code().code() + "" + c + d.escape(p.code().text()) + c + "HL70357";
            segments.add("ERR" + f + f + location + f + code + f + "E" + f + f + f + f + d.escape(p.message(), ERR_8_MAX));
        }
        return segments;
    }

    private static List<String> errBeforeV25(List<Problem> problems, Delimiters d) {
        List<String> elds = new ArrayList<>();
        for (Problem p : problems) {
            char c = d.component();
            char s = d.subcomponent();
            String where = p.location().map(l -> l.segmentId() + c + l.sequence() + c + (l.field() > 0 ? l.field() : ""))
                    .orElse("" + c + c);
            elds.add(where + c + p.code().code() + s + d.escape(p.code().text()) + s + "HL70357");
        }
        return List.of("ERR" + d.field() + String.join(String.valueOf(d.repetition()), elds));
    }

    private static String erl(Problem.Location l, char component) {
        return l.segmentId() + component + l.sequence() + (l.field() > 0 ? component + String.valueOf(l.field()) : "");
    }

    /** MSA-2: the inbound MSH-10 as received; re-escaped when the inbound delimiters were unusable. */
    private static String acknowledgedId(MshHeader header) {
        return header.delimiters().isPresent() ? header.controlId() : Delimiters.STANDARD.escape(header.controlId());
    }

    private static String copied(Optional<MshHeader> inbound, int field, Delimiters d) {
        if (inbound.isEmpty()) return "";
        MshHeader header = inbound.get();
        // With usable delimiters the field is copied whole (all HD components); otherwise it is text.
        return header.delimiters().isPresent() ? header.field(field) : d.escape(header.field(field));
    }

    /** The operator's own HD value, written with ^ and &, in the reply's delimiters. */
    private static Optional<String> own(String configured, Delimiters d) {
        if (configured.isEmpty()) return Optional.empty();
        StringBuilder out = new StringBuilder();
        for (String component : configured.split("\\^", -1)) {
            if (!out.isEmpty()) out.append(d.component());
            StringBuilder sub = new StringBuilder();
            for (String part : component.split("&", -1)) {
                if (!sub.isEmpty()) sub.append(d.subcomponent());
                sub.append(d.escape(part));
            }
            out.append(sub);
        }
        return Optional.of(out.toString());
    }

    private static String joinTrimmed(List<String> fields, char separator) {
        int last = fields.size();
        while (last > 0 && fields.get(last - 1).isEmpty()) last--;
        return String.join(String.valueOf(separator), fields.subList(0, last));
    }
}
