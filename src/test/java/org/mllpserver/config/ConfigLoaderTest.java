package org.mllpserver.config;

import org.junit.jupiter.api.Test;
import org.mllpserver.hl7.AckCode;
import org.mllpserver.mllp.ListenAddress;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    /** One bad value per variable; every variable the server reads is here. */
    private static final Map<Variable, String> BAD = new EnumMap<>(Map.ofEntries(
            Map.entry(Variable.LISTEN_ADDR, "2575"),
            Map.entry(Variable.MAX_CONNECTIONS, "-1"),
            Map.entry(Variable.IDLE_TIMEOUT, "30"),
            Map.entry(Variable.FRAME_TIMEOUT, "1 minute"),
            Map.entry(Variable.MAX_FRAME_SIZE, "4MB"),
            Map.entry(Variable.MAX_INFLIGHT_BYTES, "lots"),
            Map.entry(Variable.ADMIN_ADDR, "8080"),
            Map.entry(Variable.ADMIN_TOKEN, "short"),
            Map.entry(Variable.LOG_BUFFER_LINES, "0"),
            Map.entry(Variable.DRAIN_TIMEOUT, "2h"),
            Map.entry(Variable.DEFAULT_CHARSET, "UTF-16"),
            Map.entry(Variable.CHECK_REQUIRED_SEGMENTS, "maybe"),
            Map.entry(Variable.TLS_CERT_FILE, "/nonexistent/server.pem"),
            Map.entry(Variable.TLS_KEY_FILE, "/nonexistent/server.key"),
            Map.entry(Variable.TLS_CLIENT_CA, "/nonexistent/ca.pem"),
            Map.entry(Variable.TLS_MIN_VERSION, "1.1"),
            Map.entry(Variable.TLS_LISTEN_ADDR, "nowhere"),
            Map.entry(Variable.TLS_ALLOWED_CLIENTS, "XYZ:lab1"),
            Map.entry(Variable.TLS_WATCH, "sometimes"),
            Map.entry(Variable.TLS_HANDSHAKE_TIMEOUT, "0"),
            Map.entry(Variable.ERROR_ACK_CODE, "AA"),
            Map.entry(Variable.VALIDATION_ACK_CODE, "AA"),
            Map.entry(Variable.CONFIG_FILE, "/nonexistent/mllp.yaml"),
            Map.entry(Variable.MAX_RULE_COST, "0"),
            Map.entry(Variable.MAX_RULE_STEPS, "lots"),
            Map.entry(Variable.MAX_RULE_TIME, "forever"),
            Map.entry(Variable.RETRY_INITIAL, "soon"),
            Map.entry(Variable.RETRY_MAX_DELAY, "0"),
            Map.entry(Variable.RETRY_MAX_ATTEMPTS, "0"),
            Map.entry(Variable.ACK_SENDING_APPLICATION, "APP\u0007"),
            Map.entry(Variable.ACK_SENDING_FACILITY, "FAC\r\n"),
            Map.entry(Variable.DATA_DIR, "bad\u0000dir"),
            Map.entry(Variable.JOURNAL_SEGMENT_SIZE, "1KiB"),
            Map.entry(Variable.DEDUP_WINDOW, "forever"),
            Map.entry(Variable.DEDUP_MAX_ENTRIES, "many"),
            Map.entry(Variable.CHECKPOINT_INTERVAL, "often"),
            Map.entry(Variable.RETENTION, "0"),
            Map.entry(Variable.AUDIT_RETENTION, "12h"),
            Map.entry(Variable.LOG_LEVEL, "LOUD"),
            Map.entry(Variable.LOG_PAYLOADS, "sometimes")));

    @Test
    void everyVariableHasABadValueInThisTest() {
        assertEquals(List.of(Variable.values()), List.copyOf(BAD.keySet()));
    }

    @Test
    void reportsEveryBadValueAtOnce() {
        Map<String, String> env = new HashMap<>();
        BAD.forEach((variable, value) -> env.put(variable.name(), value));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(env));
        assertEquals(BAD.size(), e.problems().size(), String.join("\n", e.problems()));
        for (Variable variable : Variable.values()) {
            assertTrue(e.problems().stream().anyMatch(p -> p.startsWith(variable.name() + "=")),
                    variable + " missing from " + e.problems());
        }
    }

    @Test
    void eachBadValueAloneIsReportedWithWhatIsWrong() {
        BAD.forEach((variable, value) -> {
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of(variable.name(), value)), variable.name());
            assertEquals(1, e.problems().size(), e.problems().toString());
            assertTrue(e.getMessage().contains(variable.name()), e.getMessage());
        });
    }

    @Test
    void parsingAloneNeitherCompilesRulesNorReadsKeyFilesSoJournalCommandsWorkWhateverTheirState() throws Exception {
        Map<String, String> env = Map.of("VALIDATION_RULE_BROKEN", "pid.id ==", "TLS_CERT_FILE", "/nonexistent/c.pem",
                "TLS_KEY_FILE", "/nonexistent/k.pem", "DATA_DIR", "/nonexistent/data");
        ServerConfig parsed = ConfigLoader.parse(env);
        assertEquals(java.nio.file.Path.of("/nonexistent/data"), parsed.dataDir());
        assertEquals(java.nio.file.Path.of("/nonexistent/data/journal"), parsed.journal().directory());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(env));
        assertTrue(e.problems().stream().anyMatch(p -> p.contains("broken")), e.getMessage());
        assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("TLS_CERT_FILE")), e.getMessage());
    }

    @Test
    void runsWithNoEnvironmentAtAll() throws ConfigException {
        ServerConfig config = ConfigLoader.load(Map.of()).config();
        assertEquals(new ListenAddress("", 2575), config.listenAddress());
        assertEquals(0, config.limits().maxConnections());
        assertEquals(Duration.ofSeconds(30), config.limits().idleTimeout());
        assertEquals(Duration.ofSeconds(60), config.limits().frameTimeout());
        assertEquals(4 << 20, config.limits().maxFrameBytes());
        assertEquals(Duration.ofSeconds(30), config.drainTimeout());
        assertEquals(StandardCharsets.ISO_8859_1, config.reader().defaultCharset());
        assertFalse(config.reader().checkRequiredSegments());
        assertEquals(AckCode.AE, config.intake().errorAckCode());
        assertEquals("", config.acks().sendingApplication());
        assertEquals(System.Logger.Level.INFO, config.logging().level());
        assertFalse(config.logging().payloads());
        assertEquals(java.nio.file.Path.of("data", "journal").toAbsolutePath(), config.journal().directory());
        assertEquals(64L << 20, config.journal().segmentBytes());
        assertEquals(Duration.ofDays(7), config.journal().retention());
        assertEquals(Duration.ofHours(24), config.dedupWindow());
    }

    @Test
    void aDedupWindowLongerThanRetentionIsAProblem() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(Map.of("DEDUP_WINDOW", "8d", "RETENTION", "7d")));
        assertTrue(e.problems().getFirst().startsWith("DEDUP_WINDOW"), e.getMessage());
        assertEquals(Duration.ZERO, assertDoesNotThrowLoad(Map.of("DEDUP_WINDOW", "0")).dedupWindow());
    }

    private static ServerConfig assertDoesNotThrowLoad(Map<String, String> env) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> ConfigLoader.load(env)).config();
    }

    @Test
    void readsGoodValuesInEveryDocumentedForm() throws ConfigException {
        ServerConfig config = ConfigLoader.parse(Map.ofEntries(
                Map.entry("LISTEN_ADDR", "[::1]:2576"),
                Map.entry("MAX_CONNECTIONS", "100"),
                Map.entry("IDLE_TIMEOUT", "5m"),
                Map.entry("FRAME_TIMEOUT", "500ms"),
                Map.entry("MAX_FRAME_SIZE", "64KiB"),
                Map.entry("DRAIN_TIMEOUT", "1h"),
                Map.entry("DEFAULT_CHARSET", "UNICODE UTF-8"),
                Map.entry("CHECK_REQUIRED_SEGMENTS", "true"),
                Map.entry("ERROR_ACK_CODE", "ar"),
                Map.entry("ACK_SENDING_APPLICATION", "MLLP^1.2.3^ISO"),
                Map.entry("LOG_LEVEL", "debug"),
                Map.entry("LOG_PAYLOADS", "true")));
        assertEquals(new ListenAddress("::1", 2576), config.listenAddress());
        assertEquals(100, config.limits().maxConnections());
        assertEquals(Duration.ofMinutes(5), config.limits().idleTimeout());
        assertEquals(Duration.ofMillis(500), config.limits().frameTimeout());
        assertEquals(64 * 1024, config.limits().maxFrameBytes());
        assertEquals(Duration.ofHours(1), config.drainTimeout());
        assertEquals(StandardCharsets.UTF_8, config.reader().defaultCharset());
        assertTrue(config.reader().checkRequiredSegments());
        assertEquals(AckCode.AR, config.intake().errorAckCode());
        assertEquals("MLLP^1.2.3^ISO", config.acks().sendingApplication());
        assertEquals(System.Logger.Level.DEBUG, config.logging().level());
        assertTrue(config.logging().payloads());
    }

    @Test
    void parsesDurationsAndSizes() {
        assertEquals(Duration.ofMillis(500), Values.duration("500ms"));
        assertEquals(Duration.ofSeconds(30), Values.duration("30s"));
        assertEquals(Duration.ofMinutes(5), Values.duration("5m"));
        assertEquals(Duration.ofHours(1), Values.duration("1h"));
        assertEquals(Duration.ofDays(7), Values.duration("7d"));
        assertEquals(64 * 1024, Values.size("64KiB"));
        assertEquals(4L << 20, Values.size("4MiB"));
        assertEquals(1L << 30, Values.size("1GiB"));
        assertEquals(1000, Values.size("1000"));
        for (String bad : List.of("", "30", "s", "1.5s", "-1s", "30 s")) {
            assertThrows(IllegalArgumentException.class, () -> Values.duration(bad), bad);
        }
        for (String bad : List.of("", "4MB", "4 MiB", "-1", "1.5KiB")) {
            assertThrows(IllegalArgumentException.class, () -> Values.size(bad), bad);
        }
    }

    @Test
    void aCharsetThatCanOnlyDecodeIsAConfigurationProblem() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("DEFAULT_CHARSET", "ISO-2022-CN")));
        assertTrue(e.problems().getFirst().startsWith("DEFAULT_CHARSET="), e.getMessage());
    }

    @Test
    void blankMeansDefault() throws ConfigException {
        assertEquals(Duration.ofSeconds(30), ConfigLoader.parse(Map.of("IDLE_TIMEOUT", "  ")).limits().idleTimeout());
    }
}
