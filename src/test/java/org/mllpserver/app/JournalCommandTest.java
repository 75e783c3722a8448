package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.TestServer;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** journal list and show read the journal of a server that is running. */
class JournalCommandTest {

    @Test
    void listsAndShowsRecordsWhileTheServerRuns() throws Exception {
        byte[] oru = Files.readAllBytes(Path.of("test-data/messages/oru_r01.hl7"));
        try (TestServer server = TestServer.start(); MllpClient client = server.connect()) {
            client.exchange(oru);
            client.exchange("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|REF-1|P|9.9\r".getBytes(StandardCharsets.US_ASCII));
            Map<String, String> env = Map.of("DATA_DIR", server.dataDir().toString());

            Run list = run(env, "list");
            assertEquals(0, list.status, list.err);
            String[] lines = list.out.split("\n");
            assertEquals(3, lines.length, list.out);
            assertTrue(lines[1].contains("message") && lines[1].contains("ORU-R01-0001") && lines[1].contains("ORU^R01^ORU_R01"), lines[1]);
            assertTrue(lines[2].contains("refused") && lines[2].contains("REF-1") && lines[2].contains("203 Unsupported version id"), lines[2]);
            assertEquals(1, run(env, "list", "--since", "1h").out.split("\n").length - 2, "both are from the last hour");

            String position = lines[1].substring(0, 20);
            String recordId = lines[1].substring(22, 58);
            Run raw = run(env, "show", recordId, "--raw");
            assertEquals(0, raw.status, raw.err);
            assertArrayEquals(oru, raw.bytes, "show --raw gives the message back byte for byte");
            assertTrue(raw.err.contains("ORU-R01-0001"), raw.err);
            Run byPosition = run(env, "show", position);
            assertTrue(byPosition.out.startsWith("MSH|^~\\&|LABSYS") && byPosition.out.contains("\nPID|1||MRN100001"), byPosition.out);
            assertEquals(1, run(env, "show", "00000000-0000-7000-8000-000000000000").status, "an unknown id");
            assertEquals(2, run(env, "show", "not-an-id").status);
        }
    }

    record Run(int status, String out, byte[] bytes, String err) {}

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = JournalCommand.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }
}
