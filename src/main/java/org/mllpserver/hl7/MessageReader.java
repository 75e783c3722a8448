package org.mllpserver.hl7;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.GenericMessage;
import ca.uhn.hl7v2.model.GenericSegment;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.parser.EncodingCharacters;
import ca.uhn.hl7v2.parser.GenericModelClassFactory;
import ca.uhn.hl7v2.parser.ModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Frame bytes to a parsed message, or to the problems that refuse it.
 *
 * <p>The steps: decode with MSH-18 ({@link Decoding}); read MSH ourselves ({@link MshHeader});
 * well-formedness checks ({@link MessageChecks}); required segments of the message structure
 * ({@link RequiredSegments}, optional). HAPI parses segments into its <em>generic</em> model with
 * validation off, each when a value of it is first read. Why that model: it parses every version
 * 2.1–2.8 with the same code and takes v2.8 fields that do not fit v2.5 types, where the canonical
 * v2.5 model with validation refused 82 of the 285 real sample messages of the corpus; and it is
 * the faster of the two (see BENCHMARKS.md). HAPI never guesses structure or version from the
 * text: our own checks have already decided those.
 *
 * <p>Thread-safe. HAPI's PipeParser is not, so each parse borrows one from a small pool.
 */
public final class MessageReader {

    /**
     * @param defaultCharset        for messages whose MSH-18 is empty
     * @param checkRequiredSegments refuse messages lacking a segment their structure requires
     */
    public record Settings(Charset defaultCharset, boolean checkRequiredSegments) {}

    /** What a frame turned out to be. */
    public sealed interface Result permits Parsed, Refused {
        Decoding.Decoded decoding();

        Optional<MshHeader> header();

        /**
         * True when the frame is one message with a usable MSH, so its MSH-15/MSH-16 govern the
         * answer. A batch, several messages in a frame or an unusable MSH-2 are answered in
         * original mode: an inner message's acknowledgment agreement cannot cover them.
         */
        boolean ackModeApplies();
    }

    public record Parsed(ParsedMessage message, Decoding.Decoded decoding) implements Result {
        @Override
        public Optional<MshHeader> header() {
            return Optional.of(message.header());
        }

        @Override
        public boolean ackModeApplies() {
            return true;
        }
    }

    /** Refused, with at least one problem; {@code header} is present when MSH could be read. */
    public record Refused(Optional<MshHeader> header, List<Problem> problems, Decoding.Decoded decoding,
                          boolean ackModeApplies) implements Result {
        public Refused {
            if (problems.isEmpty()) throw new IllegalArgumentException("a refusal needs a reason");
            problems = List.copyOf(problems);
        }

        /** A refusal not tied to a readable single message: answered in original mode. */
        public static Refused unaddressed(List<Problem> problems, Decoding.Decoded decoding) {
            return new Refused(Optional.empty(), problems, decoding, false);
        }
    }

    /** Parsers kept for reuse; more are created under load and dropped beyond this many. */
    private static final int PARSER_POOL_SIZE = 16;
    /** An MSH segment fits in this many bytes many times over; the rest of an oversize frame is not looked at. */
    private static final int OVERSIZE_HEAD_BYTES = 64 * 1024;

    private final Settings settings;
    private final RequiredSegments requiredSegments = new RequiredSegments();
    private final ConcurrentLinkedDeque<PipeParser> parsers = new ConcurrentLinkedDeque<>();

    public MessageReader(Settings settings) {
        this.settings = settings;
    }

    public Result read(byte[] payload) {
        Decoding.Decoded decoded = Decoding.decode(payload, settings.defaultCharset());
        String text = normalise(decoded.text());
        String[] segments = MessageChecks.splitSegments(text, MessageChecks.MAX_VALUES);
        if (segments == null) return Refused.unaddressed(List.of(MessageChecks.tooManyValues()), decoded);
        MshHeader.Scan scan = MshHeader.scan(text);
        if (decoded.problem().isPresent()) {
            Optional<MshHeader> header = scan instanceof MshHeader.Found found ? Optional.of(found.header()) : Optional.empty();
            return new Refused(header, List.of(decoded.problem().get()), decoded, oneMessage(header, segments));
        }
        return switch (scan) {
            case MshHeader.Missing missing -> Refused.unaddressed(List.of(noHeaderProblem(segments)), decoded);
            case MshHeader.Unreadable unreadable -> Refused.unaddressed(
                    List.of(Problem.inMsh(ErrorCode.DATA_TYPE_ERROR, 1, unreadable.reason())), decoded);
            case MshHeader.Found found -> read(found.header(), segments, decoded);
        };
    }

    /**
     * The refusal of a frame that was not held whole (over the frame limit, or no memory for it),
     * addressed from its first bytes, with {@code problemText} as the reason. The header is
     * present only when MSH-10 is complete in them (a later field has started), so a truncated
     * control id is never echoed.
     */
    public Refused refuseUnheld(byte[] head, String problemText) {
        byte[] start = head.length <= OVERSIZE_HEAD_BYTES ? head : java.util.Arrays.copyOf(head, OVERSIZE_HEAD_BYTES);
        Decoding.Decoded decoded = Decoding.decode(start, settings.defaultCharset());
        Optional<MshHeader> header = MshHeader.scan(normalise(decoded.text())) instanceof MshHeader.Found found
                && found.header().fieldCount() > 10 ? Optional.of(found.header()) : Optional.empty();
        Problem problem = Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, problemText);
        return new Refused(header, List.of(problem), decoded, false);
    }

    private Result read(MshHeader header, String[] segments, Decoding.Decoded decoded) {
        List<Problem> problems = new ArrayList<>(MessageChecks.check(header, segments));
        if (problems.isEmpty() && settings.checkRequiredSegments()) problems.addAll(missingSegments(header, segments));
        boolean oneMessage = oneMessage(Optional.of(header), segments);
        if (!problems.isEmpty()) return new Refused(Optional.of(header), problems, decoded, oneMessage);
        Hl7Version version = header.version().orElseThrow(); // checked above
        return new Parsed(parse(header, version, segments), decoded);
    }

    private static boolean oneMessage(Optional<MshHeader> header, String[] segments) {
        return header.isPresent() && header.get().delimiters().isPresent() && header.get().isFirstSegment()
                && MessageChecks.holdsOneMessage(segments);
    }

    /** Structures whose requirements are cached (for tests: the cache must stay bounded). */
    int cachedStructures() {
        return requiredSegments.cachedStructures();
    }

    private List<Problem> missingSegments(MshHeader header, String[] segments) {
        var requirement = requiredSegments.forMessage(header.messageType(), header.triggerEvent(), header.messageStructure());
        if (requirement.isEmpty()) return List.of();
        Set<String> present = new HashSet<>();
        for (String segment : segments) present.add(MessageChecks.segmentId(MessageChecks.stripIndent(segment)));
        return RequiredSegments.missing(requirement.get(), present);
    }

    /**
     * The segments of a checked message, with HAPI ready to parse each one when a value of it is
     * first read ({@link ParsedMessage#value}). Parsing every segment up front cost more than half
     * of the server's CPU under load (measured, BENCHMARKS.md), and HAPI refused nothing our checks
     * had accepted (200 000 seeded mutations of the corpus; pinned by a test), so parsing what is
     * read is the cheapest choice that changes no answer.
     */
    private ParsedMessage parse(MshHeader header, Hl7Version version, String[] lines) {
        List<String> segments = new ArrayList<>(lines.length);
        for (String line : lines) {
            String text = MessageChecks.stripIndent(line);
            if (!text.isEmpty()) segments.add(text);
        }
        return new ParsedMessage(header, version, List.copyOf(segments), this);
    }

    /**
     * HAPI parses one segment into a {@link GenericSegment}: fields, repetitions, components,
     * escapes. Each segment on its own: HAPI's whole-message assembly adds every change of segment
     * name as a new "nonstandard" structure after a linear search, which made a lab report
     * alternating OBX and NTE quadratic (16 000 pairs: a stack overflow, measured).
     */
    Segment parseSegment(Hl7Version version, Delimiters d, String text) throws HL7Exception {
        PipeParser parser = borrowParser();
        try {
            Message message = newGenericMessage(version, parser.getFactory());
            message.setParser(parser);
            Segment segment = new GenericSegment(message, MessageChecks.segmentId(text));
            parser.parse(segment, text, new EncodingCharacters(d.field(), d.encodingCharacters().substring(0, 4)));
            return segment;
        } finally {
            if (parsers.size() < PARSER_POOL_SIZE) parsers.push(parser);
        }
    }

    private PipeParser borrowParser() {
        PipeParser parser = parsers.poll();
        if (parser != null) return parser;
        HapiContext context = new DefaultHapiContext();
        context.setModelClassFactory(new GenericModelClassFactory());
        context.setValidationContext(ValidationContextFactory.noValidation());
        return context.getPipeParser();
    }

    private static Message newGenericMessage(Hl7Version version, ModelClassFactory factory) {
        return switch (version.minor()) {
            case 1 -> new GenericMessage.V21(factory);
            case 2 -> new GenericMessage.V22(factory);
            case 3 -> version.patch() >= 1 ? new GenericMessage.V231(factory) : new GenericMessage.V23(factory);
            case 4 -> new GenericMessage.V24(factory);
            case 5 -> version.patch() >= 1 ? new GenericMessage.V251(factory) : new GenericMessage.V25(factory);
            case 6 -> new GenericMessage.V26(factory);
            case 7 -> version.patch() >= 1 ? new GenericMessage.V271(factory) : new GenericMessage.V27(factory);
            case 8 -> version.patch() >= 1 ? new GenericMessage.V281(factory) : new GenericMessage.V28(factory);
            default -> throw new IllegalStateException("Hl7Version admitted 2." + version.minor());
        };
    }

    private static Problem noHeaderProblem(String[] segments) {
        for (String segment : segments) {
            String id = MessageChecks.segmentId(MessageChecks.stripIndent(segment));
            if (id.equals("FHS") || id.equals("BHS")) {
                return Problem.general(ErrorCode.SEGMENT_SEQUENCE_ERROR,
                        "batches (FHS/BHS) are not accepted yet; send each message in its own MLLP frame");
            }
        }
        return Problem.general(ErrorCode.SEGMENT_SEQUENCE_ERROR, "the frame holds no MSH segment at a segment start");
    }

    /** CRLF and LF segment ends become CR (HAPI splits on CR only); leading line breaks go. */
    static String normalise(String text) {
        int start = 0;
        while (start < text.length() && (text.charAt(start) == '\r' || text.charAt(start) == '\n')) start++;
        String body = start == 0 ? text : text.substring(start);
        if (body.indexOf('\n') < 0) return body;
        return body.replace("\r\n", "\r").replace('\n', '\r');
    }
}
