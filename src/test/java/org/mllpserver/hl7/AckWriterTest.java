package org.mllpserver.hl7;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.GenericModelClassFactory;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden acknowledgements, one per rule of HL7-CONFORMANCE.md, with a fixed clock and a seeded
 * id generator; every ACK is parsed back through HAPI.
 */
class AckWriterTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T10:15:30Z"), ZoneOffset.UTC);
    private static final Problem BAD_VERSION = Problem.inMsh(ErrorCode.UNSUPPORTED_VERSION_ID, 12, "version not supported");

    private final MessageReader reader = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));

    @Test
    void msh18NamesTheCharsetTheAckIsEncodedInFromV23On() throws HL7Exception {
        assertTrue(accept("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X|P|2.2\rEVN||20260101\rPID|1\rPV1|1\r").contains("|P|2.2\r"),
                "v2.2 has no MSH-18");
        MessageReader utf8Default = new MessageReader(new MessageReader.Settings(StandardCharsets.UTF_8, false));
        MessageReader.Parsed parsed = (MessageReader.Parsed) utf8Default.read("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X|P|2.5\rEVN||20260101\rPID|1\rPV1|1\r"
                .getBytes(StandardCharsets.UTF_8));
        assertTrue(text(writer().reply(parsed, AckCode.AA, List.of()), StandardCharsets.UTF_8).contains("|P|2.5||||||UNICODE UTF-8\r"));
    }

    @Test
    void ourTextIsEscapedBeforeItIsCutToMsa3sLength() throws HL7Exception {
        String inbound = "MSH|^~\\&#|A|B|C|D|20260101||ADT^A01|T1|P|2.7\rEVN||20260101\rPID|1\rPV1|1\r";
        Problem problem = Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, "#|^".repeat(40));
        String ack = refuse(inbound, AckCode.AE, problem);
        String msa3 = ack.split("\r")[1].split("\\|", -1)[3];
        assertTrue(msa3.length() <= AckWriter.MSA_3_MAX, msa3.length() + ": " + msa3);
        assertTrue(msa3.startsWith("\\P\\\\F\\\\S\\") && msa3.endsWith("..."), "the truncation character is escaped too: " + msa3);
    }

    @Test
    void v23AcceptSwapsWholeHdFieldsAndCopiesTriggerProcessingIdAndVersion() throws HL7Exception {
        String inbound = "MSH|^~\\&|LABSYS^2.16.840.1.113883.19.1^ISO|MAIN LAB^1.2.3^ISO|EHR|GENHOSP^4.5.6^ISO|20260101120000||ORU^R01|LAB23-001|T|2.3\r"
                + "PID|1||123^^^MAIN^MR||DOE^JANE\rOBR|1||X1|CBC\rOBX|1|NM|HGB||13.5|g/dL\r";
        assertEquals("MSH|^~\\&|EHR|GENHOSP^4.5.6^ISO|LABSYS^2.16.840.1.113883.19.1^ISO|MAIN LAB^1.2.3^ISO|20261122101530+0000||ACK^R01^ACK|"
                        + id(1) + "|T|2.3||||||8859/1\r"
                        + "MSA|AA|LAB23-001\r",
                accept(inbound));
    }

    @Test
    void v23ErrorUsesErr1AndMsa3() throws HL7Exception {
        String inbound = "MSH|^~\\&|LABSYS|MAIN LAB|EHR|GENHOSP|20260101120000||ORU^R01|LAB23-002|P|2.3\r";
        assertEquals("MSH|^~\\&|EHR|GENHOSP|LABSYS|MAIN LAB|20261122101530+0000||ACK^R01^ACK|" + id(1) + "|P|2.3||||||8859/1\r"
                        + "MSA|AE|LAB23-002|version not supported\r"
                        + "ERR|MSH^1^12^203&Unsupported version id&HL70357\r",
                refuse(inbound, AckCode.AE, BAD_VERSION));
    }

    @Test
    void v24ErrorWithSeveralProblemsRepeatsErr1() throws HL7Exception {
        String inbound = "MSH|^~\\&|ADT1|MCM|LABADT|MCM|200601011200||ADT^A04|MSG24|P|2.4\rEVN|A04|200601011200\rPID|1||1\r";
        Problem general = Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, "disk full");
        assertEquals("MSH|^~\\&|LABADT|MCM|ADT1|MCM|20261122101530+0000||ACK^A04^ACK|" + id(1) + "|P|2.4||||||8859/1\r"
                        + "MSA|AE|MSG24|version not supported\r"
                        + "ERR|MSH^1^12^203&Unsupported version id&HL70357~^^^207&Application internal error&HL70357\r",
                refuse(inbound, AckCode.AE, BAD_VERSION, general));
    }

    @Test
    void v251RejectHasStructuredErrPerProblem() throws HL7Exception {
        String inbound = "MSH|^~\\&|LIS^1.2.840^ISO|LAB|HIS|HOSP|20260101||ORU^R01^ORU_R01|M251|P|2.5.1\rPID|1||7\r";
        Problem missing = Problem.at(ErrorCode.SEGMENT_SEQUENCE_ERROR, "OBR", 1, 0, "OBR is missing");
        assertEquals("MSH|^~\\&|HIS|HOSP|LIS^1.2.840^ISO|LAB|20261122101530+0000||ACK^R01^ACK|" + id(1) + "|P|2.5.1||||||8859/1\r"
                        + "MSA|AR|M251|version not supported\r"
                        + "ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||version not supported\r"
                        + "ERR||OBR^1|100^Segment sequence error^HL70357|E||||OBR is missing\r",
                refuse(inbound, AckCode.AR, BAD_VERSION, missing));
    }

    @Test
    void v28AcceptIsEncodedInTheInboundCharsetAndSaysSoInMsh18() throws HL7Exception {
        String inbound = "MSH|^~\\&|Ünïcode^1.2^ISO|Köln|EHR|Zürich|20260101||ADT^A08^ADT_A01|M28|P|2.8||||||UNICODE UTF-8\r"
                + "EVN||20260101\rPID|1||5||Müller^Jürgen\rPV1|1|I\r";
        MessageReader.Parsed parsed = (MessageReader.Parsed) reader.read(inbound.getBytes(StandardCharsets.UTF_8));
        AckWriter.Reply reply = writer().reply(parsed, AckCode.AA, List.of());
        String expected = "MSH|^~\\&|EHR|Zürich|Ünïcode^1.2^ISO|Köln|20261122101530+0000||ACK^A08^ACK|" + id(1) + "|P|2.8|||||"
                + "|UNICODE UTF-8\r"
                + "MSA|AA|M28\r";
        assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), reply.bytes().orElseThrow());
        parsesBack(expected, "AA", "M28");
    }

    @Test
    void nonDefaultDelimitersAreKeptAndOurTextIsEscapedWithThem() throws HL7Exception {
        String inbound = "MSH#$*%@#APP$1.2$ISO#FAC#RAPP#RFAC#20260101##ADT$A01#ID-9#P#2.5\rEVN##20260101\rPID#1##9\rPV1#1#I\r";
        Problem problem = Problem.general(ErrorCode.APPLICATION_INTERNAL_ERROR, "rule #1 failed: a$b");
        assertEquals("MSH#$*%@#RAPP#RFAC#APP$1.2$ISO#FAC#20261122101530+0000##ACK$A01$ACK#" + id(1) + "#P#2.5######8859/1\r"
                        + "MSA#AE#ID-9#rule %F%1 failed: a%S%b\r"
                        + "ERR###207$Application internal error$HL70357#E####rule %F%1 failed: a%S%b\r",
                refuse(inbound, AckCode.AE, problem));
    }

    @Test
    void operatorConfiguredSendingApplicationReplacesTheSwap() throws HL7Exception {
        AckWriter writer = new AckWriter(new AckWriter.Settings("MLLPSRV^2.16.1&x^ISO", "HUB"), new ControlIds(new Random(7)), CLOCK);
        MessageReader.Parsed parsed = parsed("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X1|P|2.5\rEVN||20260101\rPID|1\rPV1|1\r");
        String ack = text(writer.reply(parsed, AckCode.AA, List.of()), StandardCharsets.ISO_8859_1);
        assertTrue(ack.startsWith("MSH|^~\\&|MLLPSRV^2.16.1&x^ISO|HUB|A|B|"), ack);
    }

    @Test
    void enhancedModeAnswersCommitCodesAsMsh15Asks() {
        String base = "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|E1|P|2.5|||%s|%s\rEVN||20260101\rPID|1\rPV1|1\r";
        record Case(String msh15, String msh16, AckCode outcome, String sent) {}
        List<Case> cases = List.of(
                new Case("AL", "NE", AckCode.AA, "CA"),
                new Case("AL", "AL", AckCode.AE, "CE"),
                new Case("AL", "", AckCode.AR, "CR"),
                new Case("NE", "AL", AckCode.AA, null),
                new Case("NE", "AL", AckCode.AE, null),
                new Case("ER", "", AckCode.AA, null),
                new Case("ER", "", AckCode.AE, "CE"),
                new Case("SU", "", AckCode.AA, "CA"),
                new Case("SU", "", AckCode.AR, null),
                new Case("", "AL", AckCode.AA, "CA"),
                new Case("XX", "", AckCode.AA, "CA"));
        for (Case c : cases) {
            MessageReader.Parsed parsed = parsed(base.formatted(c.msh15(), c.msh16()));
            List<Problem> problems = c.outcome().isPositive() ? List.of() : List.of(BAD_VERSION);
            AckWriter.Reply reply = writer().reply(parsed, c.outcome(), problems);
            assertEquals(c.outcome().toAccept(), reply.code(), c.toString());
            if (c.sent() == null) {
                assertTrue(reply.bytes().isEmpty(), c + " must not be answered");
            } else {
                String ack = text(reply, StandardCharsets.ISO_8859_1);
                assertTrue(ack.contains("\rMSA|" + c.sent() + "|E1"), c + ": " + ack);
                assertFalse(ack.split("\r")[0].matches(".*\\|(AL|NE|ER|SU)(\\|.*)?$"), "no MSH-15/16 on an ACK: " + ack);
            }
        }
    }

    @Test
    void answersAnUnreadableHeaderWithAGeneratedIdAndStandardDelimiters() throws HL7Exception {
        MessageReader.Refused refused = (MessageReader.Refused) reader.read("garbage".getBytes(StandardCharsets.US_ASCII));
        AckWriter.Reply reply = writer().reply(refused, AckCode.AE, refused.problems());
        String ack = text(reply, StandardCharsets.ISO_8859_1);
        assertEquals(id(1), reply.acknowledgedId(), "MSA-2 generated (the ACK's own MSH-10 is the next id)");
        assertTrue(ack.startsWith("MSH|^~\\&|||||20261122101530+0000||ACK^^ACK|" + id(2) + "||2.5||||||8859/1\r"), ack);
        parsesBack(ack, "AE", id(1));
    }

    @Test
    void refusalOfABadEncodingFieldStillEchoesMsh10Escaped() throws HL7Exception {
        MessageReader.Refused refused = (MessageReader.Refused) reader.read(
                "MSH|^~&|SND^X|FAC|RCV|RFAC|20260101||ORU^R01|ID^7|P|2.5\r".getBytes(StandardCharsets.US_ASCII));
        AckWriter.Reply reply = writer().reply(refused, AckCode.AE, refused.problems());
        String ack = text(reply, StandardCharsets.ISO_8859_1);
        assertTrue(ack.startsWith("MSH|^~\\&|RCV|RFAC|SND\\S\\X|FAC|"), ack);
        assertEquals("ID\\S\\7", reply.acknowledgedId());
        parsesBack(ack, "AE", "ID^7");
    }

    @Test
    void controlIdsAreUniqueAndFitMsh10() {
        ControlIds ids = new ControlIds(new Random(1));
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = ids.next();
            assertTrue(id.length() <= 20 && id.matches("[0-9A-Z]+"), id);
            assertTrue(seen.add(id), "duplicate " + id);
        }
        assertFalse(new ControlIds(new Random(1)).next().equals(new ControlIds(new Random(2)).next()), "prefix differs per run");
    }

    @Test
    void writingAcksLeavesNoHapiIdFileBehind() throws HL7Exception {
        accept("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X|P|2.5\rEVN||20260101\rPID|1\rPV1|1\r");
        assertFalse(Files.exists(Path.of("id_file")), "HAPI's file-based id generator must never be used");
    }

    // --- helpers -------------------------------------------------------------------------

    private String accept(String inbound) throws HL7Exception {
        MessageReader.Parsed parsed = parsed(inbound);
        String ack = text(writer().reply(parsed, AckCode.AA, List.of()), StandardCharsets.ISO_8859_1);
        parsesBack(ack, "AA", parsed.header().orElseThrow().controlId());
        return ack;
    }

    private String refuse(String inbound, AckCode code, Problem... problems) throws HL7Exception {
        MessageReader.Parsed parsed = parsed(inbound);
        String ack = text(writer().reply(parsed, code, List.of(problems)), StandardCharsets.ISO_8859_1);
        parsesBack(ack, code.name(), parsed.header().orElseThrow().controlId());
        return ack;
    }

    private MessageReader.Parsed parsed(String inbound) {
        MessageReader.Result result = reader.read(inbound.getBytes(StandardCharsets.ISO_8859_1));
        if (result instanceof MessageReader.Parsed parsed) return parsed;
        throw new AssertionError("test input refused: " + ((MessageReader.Refused) result).problems());
    }

    private static AckWriter writer() {
        return new AckWriter(new AckWriter.Settings("", ""), new ControlIds(new Random(42)), CLOCK);
    }

    /** The n-th id a writer seeded like {@link #writer()} hands out. */
    private static String id(int n) {
        ControlIds ids = new ControlIds(new Random(42));
        String id = null;
        for (int i = 0; i < n; i++) id = ids.next();
        return id;
    }

    private static String text(AckWriter.Reply reply, Charset charset) {
        return new String(reply.bytes().orElseThrow(), charset);
    }

    /** HAPI (generic model, no validation) reads our ACK, and finds MSA-1/MSA-2 where we put them. */
    static void parsesBack(String ack, String code, String acknowledgedId) throws HL7Exception {
        HapiContext context = new DefaultHapiContext();
        context.setModelClassFactory(new GenericModelClassFactory());
        context.setValidationContext(ValidationContextFactory.noValidation());
        Message message = context.getPipeParser().parse(ack);
        Terser terser = new Terser(message);
        assertEquals(code, terser.get("/MSA-1"), ack);
        assertEquals(acknowledgedId, Optional.ofNullable(terser.get("/MSA-2")).orElse(""), ack);
        assertEquals("ACK", terser.get("/MSH-9-1"), ack);
    }
}
