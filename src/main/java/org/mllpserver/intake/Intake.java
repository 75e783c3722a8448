package org.mllpserver.intake;

import org.mllpserver.events.Events;
import org.mllpserver.hl7.AckCode;
import org.mllpserver.hl7.AckWriter;
import org.mllpserver.hl7.Decoding;
import org.mllpserver.hl7.ErrorCode;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.hl7.MshHeader;
import org.mllpserver.hl7.Problem;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.RecordIds;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RefusedFrame;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.FrameHandler;
import org.mllpserver.mllp.FrameMemory;
import org.mllpserver.mllp.FrameReader;
import org.mllpserver.mllp.Peer;
import org.mllpserver.rules.RuleSet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Frame to answer: read the message, decide, make it durable, acknowledge.
 *
 * <pre>
 *   frame ─▶ decode + check + parse ─▶ duplicate? ─▶ rules, then filters ─▶ storeBeforeAck ─▶ AA/CA
 *                 │ refused                 │ yes           │ failed  │ error        │ storage failed
 *                 ▼                         ▼               ▼         ▼              ▼
 *     keep raw (REFUSED_FRAME), AE     original ACK     keep, AR   keep, AE       AE + ERR
 * </pre>
 *
 * <p>The filters decide the connectors a record is addressed to once, before it is written, so
 * fan-out is atomic: the stored record names them all or the message was not accepted.
 *
 * <p>Durable steps, in order: a message is appended to the journal and forced; only then is AA
 * written to the socket. A duplicate is answered from the index without a write. A refused
 * frame is kept raw in the journal (forced) before its AE, so nothing a sender gave us is lost.
 *
 * <p>Every frame gets an answer (unless an enhanced-mode sender asked for none), and
 * {@link #onFrame} never throws: a bug in here still answers AE. Log lines carry the control
 * id, message type and the reason, never message content unless {@code LOG_PAYLOADS=true}.
 *
 * <p>Thread-safe: called by many connection threads at once.
 */
public final class Intake implements FrameHandler {

    /**
     * @param errorAckCode      the code for unparseable messages and internal errors: AE (default) or AR
     * @param validationAckCode the code when a validation rule fails: AR (default) or AE
     * @param logPayloads       log each message's text (patient data: off unless the operator asks)
     */
    public record Settings(AckCode errorAckCode, AckCode validationAckCode, boolean logPayloads) {
        public Settings {
            for (AckCode code : new AckCode[]{errorAckCode, validationAckCode}) {
                if (code != AckCode.AE && code != AckCode.AR) throw new IllegalArgumentException("an error ACK code must be AE or AR");
            }
        }
    }

    private static final System.Logger LOG = System.getLogger(Intake.class.getName());
    private static final Decoding.Decoded NOTHING_DECODED = new Decoding.Decoded("", StandardCharsets.ISO_8859_1, "8859/1", Optional.empty());

    private final MessageReader reader;
    private final AckWriter acks;
    private final Journal journal;
    private final DuplicateIndex duplicates;
    private final RuleSet rules;
    private final RecordIds ids;
    private final Clock clock;
    private final Settings settings;
    private final IntakeStats stats;
    private final Events events;

    /** What a frame left in the journal: the record it was stored or kept as, if any. */
    private record Kept(Optional<UUID> recordId, long position) {
        static final Kept NOTHING = new Kept(Optional.empty(), -1);
    }

    public Intake(MessageReader reader, AckWriter acks, Journal journal, DuplicateIndex duplicates, RuleSet rules, RecordIds ids,
                  Clock clock, Settings settings, IntakeStats stats) {
        this(reader, acks, journal, duplicates, rules, ids, clock, settings, stats, Events.NONE);
    }

    /** As above, reporting what becomes of each frame to {@code events} (metrics, the audit trail). */
    public Intake(MessageReader reader, AckWriter acks, Journal journal, DuplicateIndex duplicates, RuleSet rules, RecordIds ids,
                  Clock clock, Settings settings, IntakeStats stats, Events events) {
        this.reader = reader;
        this.acks = acks;
        this.journal = journal;
        this.duplicates = duplicates;
        this.rules = rules;
        this.ids = ids;
        this.clock = clock;
        this.settings = settings;
        this.stats = stats;
        this.events = events;
    }

    @Override
    public Optional<byte[]> onFrame(byte[] payload, Peer peer) {
        Instant receivedAt = clock.instant();
        try {
            logPayload(payload, peer);
            return switch (reader.read(payload)) {
                case MessageReader.Refused refused -> refuse(refused, payload, peer, receivedAt);
                case MessageReader.Parsed parsed -> accept(parsed, payload, peer, receivedAt);
            };
        } catch (RuntimeException e) {
            // A bug, not bad input: the sender still gets an answer, we keep the frame and get a stack trace.
            LOG.log(ERROR, peer + ": internal error while handling a frame; answering " + settings.errorAckCode(), e);
            Problem problem = Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, "internal error in the server");
            return refuse(MessageReader.Refused.unaddressed(List.of(problem), NOTHING_DECODED), payload, peer, receivedAt);
        }
    }

    @Override
    public Optional<byte[]> onUnheldFrame(FrameReader.Unheld frame, Peer peer) {
        try {
            MessageReader.Refused refused = reader.refuseUnheld(frame.head(), unheldReason(frame));
            Kept kept = keepRefused(refused, frame.head(), peer, clock.instant());
            if (refused.header().isEmpty()) {
                LOG.log(WARNING, "{0}: frame refused before it was whole ({1}); MSH-10 not readable in its first bytes, so no NAK",
                        peer, refused.problems().getFirst().toLogString());
                report(refused.header(), "none", Events.FrameOutcome.REFUSED, kept, frame.head(), refused.problems(), peer);
                return Optional.empty();
            }
            return answer(refused, settings.errorAckCode(), refused.problems(), peer, Events.FrameOutcome.REFUSED, kept, frame.head());
        } catch (RuntimeException e) {
            LOG.log(ERROR, peer + ": internal error while refusing a frame that was not held; closing without a NAK", e);
            return Optional.empty();
        }
    }

    /** What the sender is told (and the journal keeps) about a frame that was not held whole; no message content. */
    private static String unheldReason(FrameReader.Unheld frame) {
        return switch (frame) {
            case FrameReader.TooLarge tooLarge -> "the frame is larger than MAX_FRAME_SIZE (" + tooLarge.maxFrameBytes()
                    + " bytes) and was not accepted; the connection is closed";
            case FrameReader.OverBudget over when over.why() == FrameMemory.Grant.NEVER_FITS ->
                    "the frame is larger than the server's memory for frames in flight (MAX_INFLIGHT_BYTES) and was not accepted;"
                            + " the connection is closed";
            case FrameReader.OverBudget over -> "the server's memory for frames in flight (MAX_INFLIGHT_BYTES) was in use, so the frame"
                    + " could not be held; it was not accepted: send it again (the connection is closed)";
        };
    }

    private Optional<byte[]> refuse(MessageReader.Refused refused, byte[] raw, Peer peer, Instant receivedAt) {
        Kept kept = keepRefused(refused, raw, peer, receivedAt);
        return answer(refused, settings.errorAckCode(), refused.problems(), peer, Events.FrameOutcome.REFUSED, kept, raw);
    }

    private Optional<byte[]> accept(MessageReader.Parsed parsed, byte[] raw, Peer peer, Instant receivedAt) {
        MshHeader header = parsed.message().header();
        DuplicateIndex.Claim claim = duplicates.claim(DuplicateIndex.Key.of(header.field(3), header.field(4), header.controlId()));
        if (claim instanceof DuplicateIndex.Duplicate duplicate) {
            LOG.log(INFO, "{0}: control id {1} is a duplicate of a message accepted at {2}; answered AA again, not stored",
                    peer, Problem.controlIdForLog(header.controlId()), duplicate.originallyAccepted());
            return answer(parsed, AckCode.AA, List.of(), peer, Events.FrameOutcome.DUPLICATE, Kept.NOTHING, raw);
        }
        DuplicateIndex.Fresh fresh = (DuplicateIndex.Fresh) claim;
        boolean stored = false;
        try {
            List<String> connectors;
            long evaluating = System.nanoTime();
            RuleSet.Verdict verdict = rules.evaluate(parsed.message());
            events.rulesEvaluated(System.nanoTime() - evaluating, verdict instanceof RuleSet.Rejected r ? r.failedRules() : List.of());
            switch (verdict) {
                case RuleSet.Accepted accepted -> connectors = accepted.connectors();
                case RuleSet.Rejected rejected -> {
                    stats.rejected();
                    List<Problem> problems = rejected.failedRules().stream()
                            .map(rule -> Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, "validation rule " + rule + " failed"))
                            .toList();
                    return keepAndAnswer(parsed, raw, peer, receivedAt, settings.validationAckCode(), problems, Events.FrameOutcome.REJECTED);
                }
                case RuleSet.Failed failed -> {
                    stats.ruleErrors();
                    // The reason can quote values (patient data): the sender sees it, the log gets only the expression.
                    Problem problem = new Problem(ErrorCode.APPLICATION_INTERNAL_ERROR, Optional.empty(),
                            failed.expression() + " could not be evaluated: " + failed.reason(),
                            failed.expression() + " could not be evaluated: " + failed.logReason());
                    return keepAndAnswer(parsed, raw, peer, receivedAt, settings.errorAckCode(), List.of(problem), Events.FrameOutcome.RULE_ERROR);
                }
            }
            Kept kept = storeBeforeAck(parsed, raw, peer, receivedAt, connectors, fresh);
            stored = true;
            if (connectors.isEmpty()) stats.addressedToNone();
            return answer(parsed, AckCode.AA, List.of(), peer, Events.FrameOutcome.ACCEPTED, kept, raw);
        } catch (IOException e) {
            LOG.log(ERROR, "{0}: control id {1} could not be stored durably, answering {2}: {3}",
                    peer, Problem.controlIdForLog(header.controlId()), settings.errorAckCode(), e.getMessage());
            Problem problem = Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR,
                    "the message could not be stored durably and was not accepted; send it again");
            return answer(parsed, settings.errorAckCode(), List.of(problem), peer, Events.FrameOutcome.STORAGE_FAILED, Kept.NOTHING, raw);
        } finally {
            if (!stored) fresh.abandoned();
        }
    }

    /**
     * THE DURABLE STEP: appends the message, exactly as received, to the journal and returns only
     * after the force that covers it returned. Throws when that did not happen; then no AA may
     * be sent. The duplicate index takes the message in as part of the append, so a checkpoint
     * never stands for a durable message its index lacks.
     */
    private Kept storeBeforeAck(MessageReader.Parsed parsed, byte[] raw, Peer peer, Instant receivedAt, List<String> connectors,
                                DuplicateIndex.Fresh fresh) throws IOException {
        MshHeader h = parsed.message().header();
        StoredMessage message = new StoredMessage(ids.next(), receivedAt, String.valueOf(peer.remoteAddress()), peer.tlsIdentity(),
                h.field(3), h.field(4), h.field(9), h.controlId(), parsed.decoding().replyCharset().name(), connectors, raw);
        long position = journal.append(RecordType.MESSAGE, message.encode(), p -> fresh.accepted());
        return new Kept(Optional.of(message.id()), position);
    }

    /** A message the rules refused or could not judge: kept raw with the reason, then answered. */
    private Optional<byte[]> keepAndAnswer(MessageReader.Parsed parsed, byte[] raw, Peer peer, Instant receivedAt, AckCode code,
                                           List<Problem> problems, Events.FrameOutcome outcome) {
        Kept kept = keepRefused(new MessageReader.Refused(Optional.of(parsed.message().header()), problems, parsed.decoding(), true), raw,
                peer, receivedAt);
        return answer(parsed, code, problems, peer, outcome, kept, raw);
    }

    /** Keeps a refused frame raw with its reason; a failure here is logged, the sender is answered anyway. */
    private Kept keepRefused(MessageReader.Refused refused, byte[] raw, Peer peer, Instant receivedAt) {
        String controlId = refused.header().map(MshHeader::controlId).orElse("");
        RefusedFrame frame = new RefusedFrame(ids.next(), receivedAt, String.valueOf(peer.remoteAddress()), peer.tlsIdentity(), controlId,
                refused.problems().getFirst().toString(), raw);
        try {
            return new Kept(Optional.of(frame.id()), journal.append(RecordType.REFUSED_FRAME, frame.encode()));
        } catch (IOException e) {
            LOG.log(ERROR, "{0}: could not keep a refused frame ({1} bytes, control id {2}): {3}",
                    peer, String.valueOf(raw.length), Problem.controlIdForLog(controlId), e.getMessage());
            return Kept.NOTHING;
        }
    }

    private Optional<byte[]> answer(MessageReader.Result read, AckCode code, List<Problem> problems, Peer peer,
                                    Events.FrameOutcome outcome, Kept kept, byte[] raw) {
        AckWriter.Reply reply = acks.reply(read, code, problems);
        stats.counted(reply.code(), reply.bytes().isPresent());
        if (!problems.isEmpty()) logRefusal(read.header(), reply, problems, peer);
        report(read.header(), reply.bytes().isPresent() ? reply.code().name() : "none", outcome, kept, raw, problems, peer);
        return reply.bytes();
    }

    /** Tells the listeners what became of the frame: header fields, codes and reasons, never its content (the payload goes by reference, for a hash). */
    private void report(Optional<MshHeader> header, String ackCode, Events.FrameOutcome outcome, Kept kept, byte[] raw,
                        List<Problem> problems, Peer peer) {
        if (events == Events.NONE) return;
        List<String> reasons = problems.isEmpty() ? List.of() : problems.stream().map(Problem::toLogString).toList();
        events.frameAnswered(new Events.FrameAnswered(clock.instant(), String.valueOf(peer.remoteAddress()), peer.tlsIdentity(), outcome,
                ackCode, header.map(h -> h.field(3)).orElse(""), header.map(h -> h.field(4)).orElse(""),
                header.map(h -> h.field(9)).orElse(""), header.map(MshHeader::controlId).orElse(""), kept.recordId(), kept.position(), raw,
                reasons));
    }

    private static void logRefusal(Optional<MshHeader> header, AckWriter.Reply reply, List<Problem> problems, Peer peer) {
        String type = header.map(h -> Problem.messageTypeForLog(h.messageType() + (h.triggerEvent().isEmpty() ? "" : "^" + h.triggerEvent())))
                .orElse("?");
        String sent = reply.bytes().isPresent() ? "" : " (not sent: MSH-15 asked for none)";
        LOG.log(WARNING, "{0}: NAK {1} for control id {2} ({3}){4}: {5}{6}", peer, reply.code(),
                Problem.controlIdForLog(reply.acknowledgedId()), type, sent, problems.getFirst().toLogString(),
                problems.size() > 1 ? " (+" + (problems.size() - 1) + " more)" : "");
    }

    private void logPayload(byte[] payload, Peer peer) {
        if (!settings.logPayloads()) return;
        String text = new String(payload, StandardCharsets.ISO_8859_1).replace("\r", "\\r\n    ");
        LOG.log(INFO, "{0}: payload ({1} bytes, shown as ISO-8859-1):\n    {2}", peer, String.valueOf(payload.length), text);
    }
}
