package org.mllpserver.hl7;

import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding, header reading and the well-formedness checks, one rule per test. */
class MessageReaderTest {

    private static final String ADT = "MSH|^~\\&|SND|SFAC|RCV|RFAC|20260101120000||ADT^A01^ADT_A01|C1|P|2.5\r"
            + "EVN|A01|20260101120000\rPID|1||123^^^H^MR||Doe^John\rPV1|1|I\r";

    private final MessageReader reader = reader(false);

    @Test
    void acceptsCrLfAndCrLfSegmentEnds() {
        assertParsed(ADT);
        assertParsed(ADT.replace("\r", "\n"));
        assertParsed(ADT.replace("\r", "\r\n"));
        assertParsed("\r\n" + ADT + "\r\n\r\n");
    }

    @Test
    void acceptsEveryVersionFrom21To28() {
        for (String version : List.of("2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.6.1", "2.7", "2.7.1",
                "2.8", "2.8.1", "2.8.2", "2.5.1^^", "2.2^x^x")) {
            MessageReader.Parsed parsed = assertParsed(ADT.replace("|2.5\r", "|" + version + "\r"));
            assertEquals(version.split("\\^")[0], parsed.message().version().text(), version);
        }
    }

    @Test
    void refusesVersionsOutsideTheRangeWithCode203() {
        for (String version : List.of("2.9", "2.999", "3.0", "12", "2.5x")) {
            assertRefused(ADT.replace("|2.5\r", "|" + version + "\r"), ErrorCode.UNSUPPORTED_VERSION_ID, "MSH-12");
        }
        assertRefused(ADT.replace("|2.5\r", "|\r"), ErrorCode.REQUIRED_FIELD_MISSING, "MSH-12");
    }

    @Test
    void decodesWithTheCharsetMsh18Names() {
        String umlaut = "MSH|^~\\&|SND|SFAC|RCV|RFAC|20260101||ADT^A01|C1|P|2.5||||||%s\rEVN||20260101\rPID|1||1||Müller\rPV1|1\r";
        assertEquals("8859/1", decoded(umlaut.formatted("8859/1"), StandardCharsets.ISO_8859_1).replyMsh18());
        assertEquals("UNICODE UTF-8", decoded(umlaut.formatted("UNICODE UTF-8"), StandardCharsets.UTF_8).replyMsh18());
        assertEquals("UTF-8", decoded(umlaut.formatted("UTF-8~ISO IR87"), StandardCharsets.UTF_8).replyMsh18());
        assertEquals("windows-1252", decoded(umlaut.formatted("windows-1252"), Charset.forName("windows-1252")).replyMsh18());
        String japanese = "MSH|^~\\&|SND|SFAC|RCV|RFAC|20260101||ADT^A01|C1|P|2.5||||||ISO IR87\rEVN||20260101\rPID|1||1||山田^太郎\rPV1|1\r";
        MessageReader.Parsed parsed = assertParsed(japanese.getBytes(Charset.forName("ISO-2022-JP")));
        assertTrue(parsed.decoding().text().contains("山田^太郎"));
    }

    @Test
    void usesTheConfiguredDefaultWhenMsh18IsEmptyNeverTheJvmDefault() {
        byte[] latin1 = ADT.replace("Doe", "Doé").getBytes(StandardCharsets.ISO_8859_1);
        MessageReader.Parsed parsed = assertParsed(latin1);
        assertTrue(parsed.decoding().text().contains("Doé"));
        assertEquals(StandardCharsets.ISO_8859_1, parsed.decoding().replyCharset());
        MessageReader utf8Default = new MessageReader(new MessageReader.Settings(StandardCharsets.UTF_8, false));
        byte[] utf8 = ADT.replace("Doe", "Doé").getBytes(StandardCharsets.UTF_8);
        assertTrue(((MessageReader.Parsed) utf8Default.read(utf8)).decoding().text().contains("Doé"));
    }

    @Test
    void takesAUtf8ByteOrderMarkForUtf8() {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] body = ADT.replace("Doe", "Doé").getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[bom.length + body.length];
        System.arraycopy(bom, 0, withBom, 0, 3);
        System.arraycopy(body, 0, withBom, 3, body.length);
        assertTrue(assertParsed(withBom).decoding().text().contains("Doé"));
    }

    @Test
    void refusesUtf16AndUtf32ButStillReadsTheControlId() {
        for (Charset wide : List.of(StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE, StandardCharsets.UTF_16,
                Charset.forName("UTF-32BE"), Charset.forName("UTF-32LE"))) {
            MessageReader.Refused refused = assertRefused(ADT.getBytes(wide), ErrorCode.TABLE_VALUE_NOT_FOUND, "MSH-18");
            assertEquals("C1", refused.header().orElseThrow().controlId(), wide.name());
        }
        assertRefused(ADT.replace("|2.5\r", "|2.5||||||UNICODE UTF-16\r"), ErrorCode.TABLE_VALUE_NOT_FOUND, "MSH-18");
    }

    @Test
    void refusesAnUnknownCharset() {
        MessageReader.Refused refused = assertRefused(ADT.replace("|2.5\r", "|2.5||||||8859\r"), ErrorCode.TABLE_VALUE_NOT_FOUND, "MSH-18");
        assertTrue(refused.problems().getFirst().message().contains("'8859'"));
    }

    @Test
    void refusesBatches() {
        String batch = "FHS|^~\\&|A|B\rBHS|^~\\&|A|B\r" + ADT + "BTS|1\rFTS|1\r";
        MessageReader.Refused refused = assertRefused(batch, ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
        assertTrue(refused.problems().getFirst().message().contains("batches"), refused.problems().toString());
        assertEquals("C1", refused.header().orElseThrow().controlId(), "addressed with the first MSH found");
        assertRefused(ADT + "BTS|1\r", ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
    }

    @Test
    void refusesTwoMessagesInOneFrame() {
        MessageReader.Refused refused = assertRefused(ADT + ADT.replace("C1", "C2"), ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
        assertTrue(refused.problems().getFirst().message().contains("2 messages"));
    }

    @Test
    void refusesBadEncodingCharacters() {
        for (String msh2 : List.of("^~&", "^~\\\\&", "^&&^", "^~\\&#$", "0000", "^~y&", "^~\\\"", "^ ~&")) {
            assertRefused(ADT.replace("^~\\&", msh2), ErrorCode.DATA_TYPE_ERROR, "MSH-2");
        }
        assertParsed(ADT.replace("^~\\&", "^~\\&#"));
        assertParsed(ADT.replace("|", "!").replace("^~\\&", "$*%@").replace("^", "$"));
    }

    @Test
    void refusesAnUnusableFieldSeparator() {
        assertRefused("MSHA^~\\&A", ErrorCode.DATA_TYPE_ERROR, "MSH-1");
        assertRefused("MSH", ErrorCode.DATA_TYPE_ERROR, "MSH-1");
    }

    @Test
    void refusesAFrameWithoutMsh() {
        assertRefused("", ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
        assertRefused("[SOM]" + ADT, ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
        assertRefused("PID|1\r" + ADT, ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
    }

    @Test
    void refusesControlCharactersAndBadSegmentIds() {
        assertRefused(ADT.replace("Doe", "D\u0000oe"), ErrorCode.DATA_TYPE_ERROR, "PID-5");
        assertRefused(ADT + "\u000B\r", ErrorCode.DATA_TYPE_ERROR, null);
        assertRefused(ADT + "I|invalid\r", ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
        assertRefused(ADT + "pid|1\r", ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
        assertRefused(ADT + "|||\r", ErrorCode.SEGMENT_SEQUENCE_ERROR, null);
        assertParsed(ADT + "ZPI|1|custom\r");
        assertParsed(ADT.replace("Doe", "Doe\tTab"));
    }

    @Test
    void requiresTypeAndFromV24TheTriggerExceptOnAck() {
        assertRefused(ADT.replace("ADT^A01^ADT_A01", ""), ErrorCode.REQUIRED_FIELD_MISSING, "MSH-9");
        assertRefused(ADT.replace("ADT^A01^ADT_A01", "ADT^^ADT_A01"), ErrorCode.REQUIRED_FIELD_MISSING, "MSH-9");
        assertParsed(ADT.replace("ADT^A01^ADT_A01", "ADT").replace("|2.5\r", "|2.3\r"));
        assertParsed("MSH|^~\\&|A|B|C|D|20260101||ACK|A1|P|2.5\rMSA|AA|X\r");
    }

    @Test
    void acceptsAnEmptyControlIdAsRealSendersSendIt() {
        assertEquals("", assertParsed(ADT.replace("|C1|", "||")).message().header().controlId());
    }

    @Test
    void requiresTimestampsThatLookLikeTimestamps() {
        assertRefused(ADT.replace("EVN|A01|20260101120000", "EVN|A01|THIS-IS-NOT-A-DATE"), ErrorCode.DATA_TYPE_ERROR, "EVN-2");
        assertRefused(ADT.replace("|20260101120000||", "|yesterday||"), ErrorCode.DATA_TYPE_ERROR, "MSH-7");
        assertParsed(ADT.replace("|20260101120000||", "|20160106165800070+0000||"));
        assertParsed(ADT.replace("|20260101120000||", "|20171007150405.1234-0500||"));
        assertParsed(ADT.replace("|20260101120000||", "|||"));
    }

    @Test
    void checksRequiredSegmentsOnlyWhenAskedTo() {
        String withoutPid = ADT.replace("PID|1||123^^^H^MR||Doe^John\r", "");
        assertParsed(withoutPid);
        MessageReader strict = reader(true);
        MessageReader.Refused refused = assertInstanceOf(MessageReader.Refused.class, strict.read(ascii(withoutPid)));
        assertEquals("PID", refused.problems().getFirst().location().orElseThrow().segmentId());
        assertInstanceOf(MessageReader.Parsed.class, strict.read(ascii(ADT)));
        String a04WithoutPv1 = ADT.replace("ADT^A01^ADT_A01", "ADT^A04").replace("PV1|1|I\r", "");
        MessageReader.Refused a04 = assertInstanceOf(MessageReader.Refused.class, strict.read(ascii(a04WithoutPv1)));
        assertTrue(a04.problems().getFirst().message().contains("ADT_A01"), "A04 uses the ADT_A01 structure");
        assertInstanceOf(MessageReader.Parsed.class, strict.read(ascii("MSH|^~\\&|A|B|C|D|20260101||ZZZ^Z01|1|P|2.5\r")),
                "a structure HAPI does not define requires nothing");
    }

    @Test
    void refusesAnOversizeFrameWithItsControlIdOnlyWhenMsh10IsComplete() {
        byte[] head = ascii(ADT.substring(0, ADT.indexOf("|P|") + 1));
        assertEquals("C1", reader.refuseUnheld(head, "too large").header().orElseThrow().controlId());
        byte[] cut = ascii(ADT.substring(0, ADT.indexOf("|C1|") + 2));
        assertTrue(reader.refuseUnheld(cut, "too large").header().isEmpty(), "MSH-10 may be cut short: no header");
    }

    @Test
    void parsesEverySegmentWithHapiDecodingEscapes() {
        MessageReader.Parsed parsed = assertParsed(ADT.replace("Doe^John", "O\\S\\Brien^J\\T\\D") + "OBX|1|ST|X||a\\F\\b\r");
        ParsedMessage message = parsed.message();
        assertEquals(5, message.segmentCount()); // MSH EVN PID PV1 OBX
        assertEquals("O^Brien", message.value("PID", 1, 5, 1, 1).orElseThrow());
        assertEquals("J&D", message.value("PID", 1, 5, 2, 1).orElseThrow());
        assertEquals("a|b", message.value("OBX", 1, 5, 1, 1).orElseThrow());
        assertEquals("ADT", message.value("MSH", 1, 9, 1, 1).orElseThrow());
        assertTrue(message.value("NTE", 1, 1, 1, 1).isEmpty());
    }

    @Test
    void acceptsALabReportWithTenThousandResultsAndNotes() {
        StringBuilder report = new StringBuilder("MSH|^~\\&|LAB|L|RCV|R|20260101||ORU^R01^ORU_R01|BIG|P|2.5.1\rPID|1||1\rOBR|1\r");
        for (int i = 1; i <= 10_000; i++) {
            report.append("OBX|").append(i).append("|NM|2345-7^Glucose^LN||98|mg/dL|70-99|N|||F\r");
            if (i % 2 == 0) report.append("NTE|1||reviewed\r");
        }
        assertEquals(15_003, assertParsed(report.toString()).message().segmentCount());
    }

    /**
     * Frames within MAX_FRAME_SIZE shaped to make HAPI slow or hungry (its cost was quadratic in
     * components per field and in alternating segment names, and ~250 bytes of heap per value)
     * are answered, not parsed for minutes. The timeout is a hang guard, not a speed measurement
     * (each takes well under a second; see BENCHMARKS.md).
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void hostileShapesWithinTheFrameLimitAreRefusedPromptly() {
        int size = 4 << 20;
        String head = "MSH|^~\\&|A|B|C|D|20260101||ORU^R01|H1|P|2.5\rPID|1\rOBR|1\r";
        record Shape(String name, String prefix, String unit, ErrorCode code) {}
        for (Shape shape : List.of(
                new Shape("components", "OBX|1|ST|X||", "a^", ErrorCode.DATA_TYPE_ERROR),
                new Shape("subcomponents", "OBX|1|ST|X||", "a&", ErrorCode.DATA_TYPE_ERROR),
                new Shape("repetitions", "OBX|1|ST|X||", "a~", ErrorCode.APPLICATION_INTERNAL_ERROR),
                new Shape("fields", "ZZZ", "|a", ErrorCode.APPLICATION_INTERNAL_ERROR),
                new Shape("segments", "", "OBX|1|ST|X||v\rNTE|1\r", ErrorCode.APPLICATION_INTERNAL_ERROR),
                new Shape("tiny bad segments", "", "x\r", ErrorCode.APPLICATION_INTERNAL_ERROR),
                new Shape("control characters", "", "a\u0001\r", ErrorCode.APPLICATION_INTERNAL_ERROR))) {
            StringBuilder frame = new StringBuilder(head).append(shape.prefix());
            while (frame.length() < size) frame.append(shape.unit());
            MessageReader.Refused refused = assertInstanceOf(MessageReader.Refused.class, reader.read(ascii(frame.toString())), shape.name());
            assertEquals(shape.code(), refused.problems().getFirst().code(), shape.name() + ": " + refused.problems());
        }
    }

    @Test
    void manyBadSegmentsWithinTheValueBudgetGiveAtMostTenProblems() {
        String frame = ADT + "x\r".repeat(100_000);
        MessageReader.Refused refused = assertInstanceOf(MessageReader.Refused.class, reader.read(ascii(frame)));
        assertEquals(MessageChecks.MAX_PROBLEMS, refused.problems().size());
    }

    @Test
    void aCharsetJavaCanOnlyDecodeIsRefusedAsUnknownNotAsAnInternalError() {
        MessageReader.Refused refused = assertRefused(ADT.replace("|2.5\r", "|2.5||||||x-JISAutoDetect\r"),
                ErrorCode.TABLE_VALUE_NOT_FOUND, "MSH-18");
        assertEquals("C1", refused.header().orElseThrow().controlId());
    }

    @Test
    void findsMsh18BehindJapaneseTextInTheHeader() {
        Charset jis = Charset.forName("ISO-2022-JP");
        for (String facility : List.of("万病院", "山病院", "東京都立病院")) {
            String text = "MSH|^~\\&|SND|" + facility + "|RCV|RFAC|20260101||ADT^A01|J1|P|2.5||||||ISO IR87\rEVN||20260101\rPID|1||1||山田^太郎\rPV1|1\r";
            MessageReader.Parsed parsed = assertParsed(text.getBytes(jis));
            assertEquals(facility, parsed.message().header().field(4));
        }
        String extension = "MSH|^~\\&|SND|万病院|RCV|RFAC|20260101||ADT^A01|J2|P|2.5||||||~ISO IR87\rEVN||20260101\rPID|1||1||山田\rPV1|1\r";
        MessageReader.Parsed parsed = assertParsed(extension.getBytes(jis));
        assertEquals("万病院", parsed.message().header().field(4), "an empty first repetition with ISO IR87 as an alternate");
        assertEquals("~ISO IR87", parsed.decoding().replyMsh18());
    }

    @Test
    void cachesOnlyStructureShapedNamesWhenCheckingRequiredSegments() {
        MessageReader strict = reader(true);
        for (int i = 0; i < 200; i++) {
            strict.read(ascii(ADT.replace("ADT^A01^ADT_A01", "ADT^A01^" + "X".repeat(100) + i)));
        }
        assertTrue(strict.cachedStructures() <= 1, "only ADT_A01 may be cached: " + strict.cachedStructures());
    }

    // --- helpers -------------------------------------------------------------------------

    private static MessageReader reader(boolean requiredSegments) {
        return new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, requiredSegments));
    }

    private Decoding.Decoded decoded(String text, Charset charset) {
        MessageReader.Parsed parsed = assertParsed(text.getBytes(charset));
        assertTrue(parsed.decoding().text().contains("Müller"), charset + ": " + parsed.decoding().text());
        assertEquals(charset, parsed.decoding().replyCharset());
        return parsed.decoding();
    }

    private MessageReader.Parsed assertParsed(String text) {
        return assertParsed(ascii(text));
    }

    private MessageReader.Parsed assertParsed(byte[] bytes) {
        MessageReader.Result result = reader.read(bytes);
        if (result instanceof MessageReader.Refused refused) throw new AssertionError("refused: " + refused.problems());
        return (MessageReader.Parsed) result;
    }

    private MessageReader.Refused assertRefused(String text, ErrorCode code, String where) {
        return assertRefused(ascii(text), code, where);
    }

    private MessageReader.Refused assertRefused(byte[] bytes, ErrorCode code, String where) {
        MessageReader.Result result = reader.read(bytes);
        MessageReader.Refused refused = assertInstanceOf(MessageReader.Refused.class, result, "should be refused");
        Problem first = refused.problems().getFirst();
        assertEquals(code, first.code(), refused.problems().toString());
        if (where != null) assertEquals(where, first.location().map(Object::toString).orElse(null), refused.problems().toString());
        return refused;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }
}
