package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ./run.sh check: compile everything offline, optionally evaluate it on a folder of messages. */
class CheckCommandTest {

    @TempDir
    Path dir;

    private record Run(int status, String out, String err) {}

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = "check";
        System.arraycopy(args, 0, all, 1, args.length);
        int status = Main.run(all, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void checksTheSeedConfigurationAndTabulatesTheSampleMessages() throws Exception {
        Path yaml = dir.resolve("mllp.yaml");
        Files.writeString(yaml, org.mllpserver.config.RoutingConfigTest.SEED_YAML);
        Map<String, String> env = Map.of("CONFIG_FILE", yaml.toString());
        Run plain = run(env);
        assertEquals(0, plain.status, plain.err);
        assertTrue(plain.out.contains("1 validation rule(s), 2 connector(s)"), plain.out);

        Run table = run(env, "--messages", "test-data/messages");
        assertEquals(0, table.status, table.err);
        String[] lines = table.out.split("\n");
        assertTrue(lines[1].startsWith("message") && lines[1].contains("rule require-patient-id")
                && lines[1].contains("connector ehr-ingest") && lines[1].contains("connector lab-archive"), lines[1]);
        assertTrue(table.out.lines().anyMatch(l -> l.matches("adt_a01\\.hl7\\s+pass\\s+addressed\\s+-")), table.out);
        assertTrue(table.out.lines().anyMatch(l -> l.matches("oru_r01\\.hl7\\s+pass\\s+-\\s+addressed")), table.out);
        assertEquals(2 + 6, lines.length, table.out);
    }

    @Test
    void badExpressionsExitTwoWithEveryProblem() throws Exception {
        Run bad = run(Map.of("VALIDATION_RULE_A", "pid.idd != ''", "CONNECTOR_B_TYPE", "file", "CONNECTOR_B_DIRECTORY", "/x",
                "CONNECTOR_B_FILTER", "msh.msg_type =="));
        assertEquals(2, bad.status);
        assertTrue(bad.err.contains("rule a:1:4: undefined field 'idd'") && bad.err.contains("filter of connector b:"), bad.err);
    }

    @Test
    void aConnectorThatCannotBeSetUpExitsTwo() throws Exception {
        Path notACa = dir.resolve("not-a-ca.pem");
        Files.writeString(notACa, "this is not a certificate\n");
        Run bad = run(Map.of("CONNECTOR_WEB_TYPE", "http", "CONNECTOR_WEB_URL", "https://ehr.example.com/hl7",
                "CONNECTOR_WEB_CA_FILE", notACa.toString()));
        assertEquals(2, bad.status, bad.out + bad.err);
        assertTrue(bad.err.contains("connector web") && bad.err.contains("not-a-ca.pem"), bad.err);
    }

    @Test
    void aMessageTheServerWouldRefuseOrAnExpressionThatErrorsExitsOne() throws Exception {
        Path messages = Files.createDirectories(dir.resolve("in"));
        Files.writeString(messages.resolve("bad.hl7"), "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X|P|9.9\r");
        Files.writeString(messages.resolve("two.hl7"), "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X1|P|2.5\rPID|1||abc\r\n\n"
                + "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X2|P|2.5\rPID|1||12\r");
        Run run = run(Map.of("VALIDATION_RULE_NUMERIC", "int(pid.id) > 0"), "--messages", messages.toString());
        assertEquals(1, run.status, run.out + run.err);
        assertTrue(run.out.contains("two.hl7#1  error") && run.out.contains("two.hl7#2  pass"), run.out);
        assertTrue(run.err.contains("bad.hl7: the server would refuse it"), run.err);
    }

    @Test
    void journalAndDlqCommandsWorkWhenARuleDoesNotCompileOrAKeyFileIsMissing() {
        Map<String, String> env = Map.of("VALIDATION_RULE_BROKEN", "pid.id ==", "TLS_CERT_FILE", "/nonexistent/c.pem",
                "TLS_KEY_FILE", "/nonexistent/k.pem", "DATA_DIR", "/nonexistent/data");
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code = Main.run(new String[]{"journal", "list"}, env, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                new java.io.PrintStream(err));
        assertEquals(Main.EXIT_FAILURE, code, "no journal there (1), not a configuration error (2): " + err);
        assertEquals(Main.EXIT_USAGE, Main.run(new String[]{"check"}, env, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                new java.io.PrintStream(new java.io.ByteArrayOutputStream())), "check still prepares everything");
    }
}
