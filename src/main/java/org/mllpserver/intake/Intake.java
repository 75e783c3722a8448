package org.mllpserver.intake;

import org.mllpserver.hl7.AckCode;
import org.mllpserver.hl7.AckWriter;
import org.mllpserver.hl7.Decoding;
import org.mllpserver.hl7.ErrorCode;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.hl7.MshHeader;
import org.mllpserver.hl7.Problem;
import org.mllpserver.mllp.FrameHandler;
import org.mllpserver.mllp.Peer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Frame to answer: read the message, decide, make it durable, acknowledge.
 *
 * <pre>
 *   frame ─▶ decode + check + parse ─▶ [rules: issue 4] ─▶ storeBeforeAck ─▶ AA/CA
 *                 │ refused                    │ rule failed        │ storage failed
 *                 ▼                            ▼                    ▼
 *           AE (ERROR_ACK_CODE) + ERR     AR + ERR             AE + ERR
 * </pre>
 *
 * <p>Every frame gets an answer (unless an enhanced-mode sender asked for none), and
 * {@link #onFrame} never throws: a bug in here still answers AE. Log lines carry the control
 * id, message type and the reason, never message content unless {@code LOG_PAYLOADS=true}.
 *
 * <p>Thread-safe: called by many connection threads at once.
 */
public final class Intake implements FrameHandler {

    /**
     * @param errorAckCode the code for unparseable messages and internal errors: AE (default) or AR
     * @param logPayloads  log each message's text (patient data: off unless the operator asks)
     */
    public record Settings(AckCode errorAckCode, boolean logPayloads) {
        public Settings {
            if (errorAckCode != AckCode.AE && errorAckCode != AckCode.AR) {
                throw new IllegalArgumentException("the error ACK code must be AE or AR");
            }
        }
    }

    private static final System.Logger LOG = System.getLogger(Intake.class.getName());

    private final MessageReader reader;
    private final AckWriter acks;
    private final Settings settings;
    private final IntakeStats stats;

    public Intake(MessageReader reader, AckWriter acks, Settings settings, IntakeStats stats) {
        this.reader = reader;
        this.acks = acks;
        this.settings = settings;
        this.stats = stats;
    }

    @Override
    public Optional<byte[]> onFrame(byte[] payload, Peer peer) {
        try {
            logPayload(payload, peer);
            return switch (reader.read(payload)) {
                case MessageReader.Refused refused -> answer(refused, settings.errorAckCode(), refused.problems(), peer);
                case MessageReader.Parsed parsed -> accept(parsed, payload, peer);
            };
        } catch (RuntimeException e) {
            // A bug, not bad input: the sender still gets an answer, and we get a stack trace.
            LOG.log(ERROR, peer + ": internal error while handling a frame; answering " + settings.errorAckCode(), e);
            Problem problem = Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, "internal error in the server");
            Decoding.Decoded nothing = new Decoding.Decoded("", StandardCharsets.ISO_8859_1, "", Optional.empty());
            return answer(MessageReader.Refused.unaddressed(List.of(problem), nothing), settings.errorAckCode(), List.of(problem), peer);
        }
    }

    @Override
    public Optional<byte[]> onOversizeFrame(byte[] head, Peer peer) {
        MessageReader.Refused refused = reader.refuseOversize(head, head.length);
        if (refused.header().isEmpty()) {
            LOG.log(WARNING, "{0}: frame over MAX_FRAME_SIZE refused; MSH-10 not readable in its first bytes, so no NAK", peer);
            return Optional.empty();
        }
        return answer(refused, settings.errorAckCode(), refused.problems(), peer);
    }

    private Optional<byte[]> accept(MessageReader.Parsed parsed, byte[] raw, Peer peer) {
        // Issue 4: the CEL validation rules run here; a failing rule answers AR with an ERR naming it.
        AckCode code = storeBeforeAck(parsed, raw, peer);
        return answer(parsed, code, List.of(), peer);
    }

    /**
     * THE DURABLE STEP. The journal (issue 3) appends {@code raw} here and returns only after the
     * fsync that covers it; AA leaves the server only after this method returned AA. Until the
     * journal exists, a well-formed message is acknowledged right after parsing.
     */
    private AckCode storeBeforeAck(MessageReader.Parsed parsed, byte[] raw, Peer peer) {
        return AckCode.AA;
    }

    private Optional<byte[]> answer(MessageReader.Result read, AckCode code, List<Problem> problems, Peer peer) {
        AckWriter.Reply reply = acks.reply(read, code, problems);
        stats.counted(reply.code(), reply.bytes().isPresent());
        if (!problems.isEmpty()) logRefusal(read.header(), reply, problems, peer);
        return reply.bytes();
    }

    private static void logRefusal(Optional<MshHeader> header, AckWriter.Reply reply, List<Problem> problems, Peer peer) {
        String type = header.map(h -> h.messageType() + (h.triggerEvent().isEmpty() ? "" : "^" + h.triggerEvent())).orElse("?");
        String sent = reply.bytes().isPresent() ? "" : " (not sent: MSH-15 asked for none)";
        LOG.log(WARNING, "{0}: NAK {1} for control id ''{2}'' ({3}){4}: {5}{6}", peer, reply.code(), reply.acknowledgedId(),
                type, sent, problems.getFirst(), problems.size() > 1 ? " (+" + (problems.size() - 1) + " more)" : "");
    }

    private void logPayload(byte[] payload, Peer peer) {
        if (!settings.logPayloads()) return;
        String text = new String(payload, StandardCharsets.ISO_8859_1).replace("\r", "\\r\n    ");
        LOG.log(INFO, "{0}: payload ({1} bytes, shown as ISO-8859-1):\n    {2}", peer, String.valueOf(payload.length), text);
    }
}
