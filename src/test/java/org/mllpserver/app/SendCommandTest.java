package org.mllpserver.app;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mllpserver.testing.TestServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in client against a real server, with the repository's own test-data. */
class SendCommandTest {

    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    @Test
    void sendsEverySampleMessageAndGetsAaOrCaForEach() throws IOException {
        List<String> files = sampleFiles();
        assertTrue(files.size() >= 6, "ADT A01/A04/A08, ORU R01, ORM O01, SIU S12 at least");
        Run run = send(withServer(files));
        assertEquals(0, run.status(), run.out());
        for (String file : files) assertTrue(run.out().matches("(?s).*" + java.util.regex.Pattern.quote(file) + ": MSA\\|(AA|CA)\\|.*"), run.out());
        assertTrue(run.out().contains("sent " + files.size() + " message(s)") && run.out().contains(files.size() + " AA/CA, 0 other, 0 without answer"), run.out());
    }

    @Test
    void printsTheErrOfARefusalAndExitsNonZero() throws IOException {
        Run run = send(withServer(List.of("test-data/refused/unsupported_version.hl7")));
        assertEquals(1, run.status());
        assertTrue(run.out().contains("MSA|AE|OLD-0001|"), run.out());
        assertTrue(run.out().contains("ERR||MSH^1^12|203^Unsupported version id^HL70357"), run.out());
    }

    @Test
    void sendsSeveralMessagesFromOneFileAndRepeatsWithUniqueControlIds(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("two.hl7");
        Files.writeString(file, "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|TWO-1|P|2.3\nEVN|A08|20260101\nPID|1\n\n\r\n"
                + "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|TWO-2|P|2.3\r\nEVN|A08|20260101\r\nPID|1\r\n", StandardCharsets.ISO_8859_1);
        Run once = send(withServer(List.of(file.toString())));
        assertEquals(0, once.status(), once.out());
        assertTrue(once.out().contains("two.hl7#1: MSA|AA|TWO-1") && once.out().contains("two.hl7#2: MSA|AA|TWO-2"), once.out());
        Run repeated = send(withServer(List.of("--count", "7", "--rate", "1000", file.toString())));
        assertEquals(0, repeated.status(), repeated.out());
        assertTrue(repeated.out().contains("MSA|AA|TWO-1.7"), repeated.out());
        assertTrue(repeated.out().contains("sent 7 message(s)"), repeated.out());
    }

    @Test
    void doesNotWaitForAnAnswerAMessageAsksNotToGet(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("ne.hl7");
        Files.writeString(file, "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|NE-1|P|2.5|||NE|NE\rEVN|A08|20260101\rPID|1\rPV1|1\r");
        Run run = send(withServer(List.of(file.toString(), "test-data/messages/adt_a04.hl7")));
        assertEquals(0, run.status(), run.out());
        assertTrue(run.out().contains("1 not acknowledged as asked (MSH-15=NE)"), run.out());
        assertTrue(run.out().contains("MSA|AA|ADT-A04-0001"), "the next message's answer is its own: " + run.out());
    }

    @Test
    void reportsANonRunningServerAsNoAnswer() throws IOException {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        Run run = send(List.of("--to", "127.0.0.1:" + closedPort, "test-data/messages/adt_a04.hl7"));
        assertEquals(1, run.status());
        assertTrue(run.out().contains("no answer"), run.out());
    }

    @Test
    void refusesBadUsageWithExitCode2() throws IOException {
        assertEquals(2, send(List.of()).status());
        assertEquals(2, send(List.of("--count", "zero", "x.hl7")).status());
        assertEquals(2, send(List.of("--bogus", "x.hl7")).status());
        assertEquals(2, send(List.of("does-not-exist.hl7")).status());
    }

    @Test
    void splitsFilesOnBlankLinesWithAnyLineEndAndKeepsEveryByte() {
        byte[] content = "MSH|a\u00e9\r\nPID|1\n\n  \r\nMSH|b\rPID|2\r\r".getBytes(StandardCharsets.ISO_8859_1);
        List<byte[]> messages = MessageFiles.split(content);
        assertEquals(2, messages.size());
        assertArrayEquals("MSH|a\u00e9\rPID|1\r".getBytes(StandardCharsets.ISO_8859_1), messages.get(0));
        assertArrayEquals("MSH|b\rPID|2\r".getBytes(StandardCharsets.ISO_8859_1), messages.get(1));
    }

    @Test
    void makesControlIdsUniqueWithinTwentyCharacters() {
        byte[] message = "MSH|^~\\&|A|B|C|D|2026||ADT^A01|ABCDEFGHIJKLMNOPQRST|P|2.5\rPID|1\r".getBytes(StandardCharsets.US_ASCII);
        String rewritten = new String(MessageFiles.withControlIdSuffix(message, 123), StandardCharsets.US_ASCII);
        assertEquals("MSH|^~\\&|A|B|C|D|2026||ADT^A01|ABCDEFGHIJKLMNOP.123|P|2.5\rPID|1\r", rewritten);
    }

    // --- helpers -------------------------------------------------------------------------

    record Run(int status, String out) {}

    private static Run send(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = SendCommand.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
    }

    private static List<String> withServer(List<String> args) {
        List<String> all = new ArrayList<>(List.of("--to", "127.0.0.1:" + server.port()));
        all.addAll(args);
        return all;
    }

    private static List<String> sampleFiles() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("test-data", "messages"))) {
            return files.map(Path::toString).filter(f -> f.endsWith(".hl7")).sorted().toList();
        }
    }
}
