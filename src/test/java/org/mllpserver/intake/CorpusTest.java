package org.mllpserver.intake;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.Version;
import ca.uhn.hl7v2.parser.GenericModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Corpus;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static java.util.Map.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public sample corpus (src/test/resources/corpus, sources in its SOURCES.md) sent to a real
 * server over loopback, one connection per file.
 */
class CorpusTest {

    /**
     * The files of messages/ and edge/ we refuse, and why. Each still gets an answer whose MSA-2
     * equals its MSH-10, with an ERR saying why. Everything else in those folders gets AA (CA in
     * enhanced mode, or no answer when MSH-15 asks for none).
     */
    static final Map<String, String> REFUSED = Map.ofEntries(
            entry("messages/dcm4che__ORU_R01__v2.5.1__1.hl7",
                    "a line break inside a base64 OBX-5 leaves a segment without a segment id; forwarding it would cut the report"),
            entry("messages/rubyhl7__RQI_A04__v2.3__1.hl7",
                    "a stray 0x0B (MLLP start byte) in the payload: a sender's framing bug; control characters are not HL7 text"),
            entry("edge/efferent__ORM_O01__v2.3__1.hl7", "MSH-2 '^~&' has no escape character: four encoding characters are required"),
            entry("edge/pyhl7__ACK_A01__v2.3__1.hl7", "MSH-2 '^~&' has no escape character"),
            entry("edge/rubyhl7__ORU_R01__v2.5.1__1.hl7", "MSH-2 '^~&': '&' sits in the escape position but is used as subcomponent separator"),
            entry("edge/rubyhl7__ORU_R01__v2.5.1__2.hl7", "MSH-2 '^~&' (as above)"),
            entry("edge/rubyhl7__ORU_R01__v2.5.1__3.hl7", "MSH-2 '^~&' (as above)"),
            entry("edge/rubyhl7__ORU_R01__v2.5.1__4.hl7", "MSH-2 '^~&' (as above)"),
            entry("edge/rubyhl7__ORU_R01__v2.5.1__5.hl7", "MSH-2 '^~&' (as above)"),
            entry("edge/lfh__ADT_A01__v2.6__1.hl7", "MSH-2 '^~\\\\&' uses the backslash as escape and subcomponent separator"),
            entry("edge/lfh__ADT_A01__v2.6__2.hl7", "MSH-2 '^~\\\\&' (as above)"),
            entry("edge/hl7apy__NA_NA__v2.7__1.hl7", "MSH-2 holds six characters"),
            entry("edge/hl7apy__RSPxSLIxRSPxK11_NA__v2.5__1.hl7", "a letter ('r') as repetition separator; letters occur in data"),
            entry("edge/ipf__ORU_R01__v2.4__1.hl7", "MSH-18 'code1' names no character set: we do not guess how to read patient data"),
            entry("edge/nhapi__ORU_R01__v2.4__1.hl7", "MSH-18 '8859' names no single charset of ISO 8859: we do not guess"),
            entry("edge/hapi__ORU_R01__v2.3__2.hl7", "two messages in one frame without a batch envelope; MLLP carries one per frame"),
            entry("edge/pyhl7__NA_NA__vNA__3.hl7", "two messages in one frame, and MSH-9/MSH-12 are empty"),
            entry("edge/pyhl7__NA_NA__vNA__1.hl7", "MSH-9 (message type) and MSH-12 (version) are empty"),
            entry("edge/pyhl7__NA_NA__vNA__2.hl7", "MSH-9 (message type) and MSH-12 (version) are empty"),
            entry("edge/pyhl7__NA_NA__vNA__4.hl7", "MSH-9 (message type) and MSH-12 (version) are empty"));

    /**
     * The one malformed file the default configuration accepts: an ADT^A01 without PID. Real
     * senders send messages without segments their structure requires (the messages/ folder has
     * 38 such), so that check is opt-in (CHECK_REQUIRED_SEGMENTS=true), and this file asks for an
     * accept ACK only on error (MSH-15=ER), so it gets no answer. See {@link #defaultConfigurationAcceptsAdtWithoutPidSilently}.
     */
    static final String ACCEPTED_MALFORMED = "malformed/ipf__ADT_A01__v2.3.1__1.hl7";

    private static final Set<String> HAPI_VERSIONS = versionsHapiKnows();
    private static TestServer server;
    private static TestServer strictServer;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        strictServer = TestServer.start("CHECK_REQUIRED_SEGMENTS", "true");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
        strictServer.close();
    }

    @Test
    void everyMessageAndEdgeFileIsAnsweredWithItsControlIdAndRefusalsAreTheListedOnes() throws Exception {
        List<String> failures = new ArrayList<>();
        List<Path> files = new ArrayList<>(Corpus.files("messages"));
        files.addAll(Corpus.files("edge"));
        int accepted = 0;
        for (Path file : files) {
            try {
                if (checkAnswer(file)) accepted++;
            } catch (AssertionError | Exception e) {
                failures.add(Corpus.name(file) + ": " + e.getMessage());
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " file(s):\n" + String.join("\n", failures));
        assertEquals(files.size() - REFUSED.size(), accepted);
    }

    /** Returns true when the file was accepted. */
    private boolean checkAnswer(Path file) throws IOException, HL7Exception {
        String name = Corpus.name(file);
        byte[] payload = Corpus.bytes(file);
        String expectedId = Corpus.indexedControlId(file);
        String[] msh = mshFields(payload);
        String msh15 = field(msh, 15);
        boolean refused = REFUSED.containsKey(name);
        // A refused frame that is not one message with usable delimiters is answered in original mode.
        boolean oneReadableMessage = !Set.of("MSH-2", "several messages").contains(kindOfRefusal(name));
        boolean enhanced = (!msh15.isEmpty() || !field(msh, 16).isEmpty()) && oneReadableMessage;
        boolean answerWanted = !enhanced || switch (msh15) {
            case "NE" -> false;
            case "ER" -> refused;
            case "SU" -> !refused;
            default -> true;
        };
        try (MllpClient client = server.connect()) {
            if (!answerWanted) {
                assertNoAnswerFor(client, payload);
                return !refused;
            }
            byte[] reply = client.exchange(payload);
            Hl7Text ack = Hl7Text.of(reply, StandardCharsets.ISO_8859_1);
            assertEquals(expectedId, ack.acknowledgedId(), "MSA-2");
            String expectedCode = refused ? (enhanced ? "CE" : "AE") : (enhanced ? "CA" : "AA");
            assertEquals(expectedCode, ack.ackCode(), () -> "MSA-1; ERR: " + ack.all("ERR"));
            if (refused) assertFalse(ack.all("ERR").isEmpty(), "a refusal carries an ERR saying why");
            assertParsesBack(reply);
            return !refused;
        }
    }

    /**
     * The issue allows a NAK or a clean close; this server answers every framed malformed file,
     * so a close would be a lost answer and fails here.
     */
    @Test
    void everyMalformedFileGetsANakWithinASecondAndTheServerStillAccepts() throws Exception {
        try (MllpClient warmUp = strictServer.connect()) {
            warmUp.exchange(ascii(completeAdt("WARM-UP"))); // the first structure look-up loads HAPI classes
        }
        List<String> failures = new ArrayList<>();
        for (Path file : Corpus.files("malformed")) {
            try (MllpClient client = strictServer.connect(Duration.ofSeconds(1))) {
                byte[] reply;
                try {
                    reply = client.exchange(Corpus.bytes(file));
                } catch (EOFException closed) {
                    failures.add(Corpus.name(file) + ": the connection was closed without an answer");
                    continue;
                }
                Hl7Text ack = Hl7Text.of(reply);
                if (!Set.of("AE", "AR", "CE", "CR").contains(ack.ackCode())) failures.add(Corpus.name(file) + ": answered " + ack.ackCode());
                else if (ack.all("ERR").isEmpty()) failures.add(Corpus.name(file) + ": NAK without ERR");
                else assertParsesBack(reply);
            } catch (SocketTimeoutException hang) {
                failures.add(Corpus.name(file) + ": no answer and no close within a second");
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        try (MllpClient fresh = strictServer.connect()) {
            assertEquals("AA", Hl7Text.of(fresh.exchange(ascii(completeAdt("AFTER-MALFORMED")))).ackCode());
        }
    }

    @Test
    void defaultConfigurationAcceptsAdtWithoutPidSilently() throws Exception {
        Path file = Corpus.files("malformed").stream().filter(f -> Corpus.name(f).equals(ACCEPTED_MALFORMED)).findFirst().orElseThrow();
        try (MllpClient client = server.connect()) {
            assertNoAnswerFor(client, Corpus.bytes(file));
        }
    }

    @Test
    void everyBatchFileIsRefusedWithAReason() throws Exception {
        for (Path file : Corpus.files("batch")) {
            try (MllpClient client = server.connect()) {
                Hl7Text ack = Hl7Text.of(client.exchange(Corpus.bytes(file)));
                assertTrue(Set.of("AE", "CE").contains(ack.ackCode()), Corpus.name(file) + ": " + ack.ackCode());
                String err = ack.field("MSA", 3) + " " + String.join(" ", ack.all("ERR")); // MSA-3 carries the text before v2.5
                assertTrue(err.contains("batches (FHS/BHS) are not accepted yet") || err.contains("one message per frame"),
                        Corpus.name(file) + ": " + err);
            }
        }
    }

    // --- helpers -------------------------------------------------------------------------

    /**
     * Sends {@code payload}, then a probe on the same connection: the first answer must be the
     * probe's, which shows no answer was sent for the payload (without waiting for a timeout).
     */
    private static void assertNoAnswerFor(MllpClient client, byte[] payload) throws IOException {
        client.send(payload);
        Hl7Text ack = Hl7Text.of(client.exchange(ascii(completeAdt("PROBE-1"))));
        assertEquals("PROBE-1", ack.acknowledgedId(), "the first answer on the connection is the probe's");
        assertEquals("AA", ack.ackCode());
    }

    /** How a listed refusal affects the answer's mode: MSH-2 unusable, several messages, or neither. */
    private static String kindOfRefusal(String name) {
        String reason = REFUSED.getOrDefault(name, "");
        if (reason.startsWith("MSH-2") || reason.startsWith("a letter")) return "MSH-2";
        if (reason.contains("two messages")) return "several messages";
        return "";
    }

    static String completeAdt(String controlId) {
        return "MSH|^~\\&|TEST|TEST|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|P|2.5\r"
                + "EVN|A01|20260101120000\rPID|1||42^^^TEST^MR||Test^Patient\rPV1|1|I\r";
    }

    /**
     * The ACK is HL7 that HAPI reads back: through our reader (HAPI generic model) always, and
     * through HAPI's own PipeParser when MSH-12 is a version HAPI has a name for (2.6.1 is not).
     */
    private static void assertParsesBack(byte[] reply) throws HL7Exception {
        MessageReader reader = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));
        MessageReader.Result result = reader.read(reply);
        assertInstanceOf(MessageReader.Parsed.class, result, () -> "our ACK does not parse: " + result);
        String version = Hl7Text.of(reply).field("MSH", 12).split(Pattern.quote(String.valueOf((char) reply[4])))[0];
        if (HAPI_VERSIONS.contains(version)) {
            HapiContext context = new DefaultHapiContext();
            context.setModelClassFactory(new GenericModelClassFactory());
            context.setValidationContext(ValidationContextFactory.noValidation());
            PipeParser parser = context.getPipeParser();
            assertNotNull(parser.parse(new String(reply, StandardCharsets.ISO_8859_1)));
        }
    }

    private static Set<String> versionsHapiKnows() {
        Set<String> versions = new java.util.HashSet<>();
        for (Version v : Version.values()) versions.add(v.getVersion());
        return versions;
    }

    /** MSH fields by plain splitting (MSH-n at index n-1), independent of the code under test. */
    private static String[] mshFields(byte[] payload) {
        String text = new String(payload, StandardCharsets.ISO_8859_1);
        if (text.startsWith("\u00EF\u00BB\u00BF")) text = text.substring(3);
        int end = text.indexOf('\r') >= 0 ? text.indexOf('\r') : text.length();
        int lf = text.indexOf('\n');
        if (lf >= 0 && lf < end) end = lf;
        String msh = text.substring(0, end);
        if (msh.length() < 4) return new String[0];
        return msh.split(Pattern.quote(String.valueOf(msh.charAt(3))), -1);
    }

    private static String field(String[] msh, int n) {
        return n - 1 < msh.length ? msh[n - 1].split("\\^")[0].strip().toUpperCase(java.util.Locale.ROOT) : "";
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
