package org.mllpserver.delivery;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.mllpserver.journal.StoredMessage;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Against a real PostgreSQL ({@value #URL}, user {@value #USER}; failing with what to do when it
 * is not reachable). Each test works in its own freshly named table and drops it at the end.
 * Names, ids and random bytes come from one seed, printed; rerun with {@code -Dtest.seed=...}.
 */
class PostgresConnectorTest {

    static final String URL = "jdbc:postgresql://127.0.0.1:5432/test";
    static final String USER = "postgres";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Bound on every wait for something another connection does. */
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static Connection admin;
    private static long seed;
    private Random random;
    private String table;
    private final List<PostgresConnector> connectors = new ArrayList<>();

    @BeforeAll
    static void connect() {
        seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("PostgresConnectorTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        try {
            admin = DriverManager.getConnection(URL, USER, "");
        } catch (SQLException e) {
            // Not skipped: the suite needs the real PostgreSQL (.ci/run starts it), and a skip would hide a broken setup.
            throw new IllegalStateException("PostgreSQL is not reachable at " + URL + " as " + USER + " (" + e.getMessage()
                    + "); start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", e);
        }
    }

    @AfterAll
    static void disconnect() throws SQLException {
        if (admin != null) admin.close();
    }

    @BeforeEach
    void name(TestInfo info) {
        random = new Random(seed ^ info.getDisplayName().hashCode());
        table = "hl7_test_" + Long.toHexString(random.nextLong() & Long.MAX_VALUE);
    }

    @AfterEach
    void drop() throws SQLException {
        connectors.forEach(PostgresConnector::close);
        sql("DROP TABLE IF EXISTS " + table);
    }

    @Test
    void createsTheTableAndStoresEveryColumn() throws Exception {
        assertFalse(tableExists(table));
        PostgresConnector connector = connector(table, 10);
        byte[] noise = latin1Noise(200);
        byte[] latin1 = concat(("MSH|^~\\&|LAB|HOSP|EHR|WARD|20240305101530||ORU^R01^ORU_R01|C-1|P|2.5.1\r"
                + "PID|1||PAT-7^^^HOSP^MR~OTHER^^^X||DOE^JOHN\rNTE|1||").getBytes(StandardCharsets.ISO_8859_1), noise, "\r".getBytes());
        StoredMessage first = message("LAB", "HOSP", "ORU^R01^ORU_R01", "C-1", "ISO-8859-1", latin1,
                Instant.parse("2024-03-05T10:15:30.123Z"));
        // Another component separator ('$'), MSH-18 UTF-8, an escape and a non-ASCII character in PID-3.1.
        byte[] utf8 = ("MSH|$~\\&|RAD|CLINIC|EHR|WARD|20240305||ADT$A01$ADT_A01|C-2|P|2.5|||||DE|UNICODE UTF-8\r"
                + "PID|1||Ö12\\T\\34$$$HOSP~X||MÜLLER$JÖRG\r").getBytes(StandardCharsets.UTF_8);
        StoredMessage second = message("RAD", "CLINIC", "ADT$A01$ADT_A01", "C-2", "UTF-8", utf8,
                Instant.parse("1999-12-31T23:59:59.999Z"));

        assertEquals(List.of(Outcome.DELIVERED, Outcome.DELIVERED), connector.deliverAll(List.of(delivery(first), delivery(second))));

        assertTrue(tableExists(table), "the connector created the table");
        assertEquals(List.of("id uuid", "received_at timestamp with time zone", "msg_type text", "trigger text", "control_id text",
                "sending_app text", "sending_facility text", "patient_id text", "raw bytea", "charset text"), columns(table));
        assertRow(first, "ORU", "R01", "PAT-7");
        assertRow(second, "ADT", "A01", "Ö12&34");
    }

    @Test
    void createsTheTableInASchema() throws Exception {
        String schema = table + "_s";
        sql("CREATE SCHEMA " + schema);
        try {
            PostgresConnector connector = connector(schema + "." + table, 10);
            assertEquals(Outcome.DELIVERED, connector.deliver(delivery(oru("C-1", "P-1"))));
            assertEquals(1, count(schema + "." + table));
        } finally {
            connectors.forEach(PostgresConnector::close);
            sql("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    @Test
    void aRepeatedRecordLeavesOneRow() throws Exception {
        PostgresConnector connector = connector(table, 10);
        StoredMessage m = oru("C-1", "P-1");
        assertEquals(Outcome.DELIVERED, connector.deliver(delivery(m)));
        assertEquals(Outcome.DELIVERED, connector.deliver(delivery(m)));
        assertEquals(1, count(table));
        // A repeat inside a batch is dropped the same way.
        StoredMessage other = oru("C-2", "P-2");
        assertEquals(List.of(Outcome.DELIVERED, Outcome.DELIVERED, Outcome.DELIVERED),
                connector.deliverAll(List.of(delivery(m), delivery(other), delivery(other))));
        assertEquals(2, count(table));
    }

    @Test
    void aBacklogGoesInOneTransactionPerBatch() throws Exception {
        PostgresConnector connector = connector(table, 500);
        List<Delivery> backlog = new ArrayList<>();
        for (int i = 0; i < 500; i++) backlog.add(delivery(oru("C-" + i, "P-" + i)));
        List<Outcome> outcomes = connector.deliverAll(backlog);
        assertEquals(500, outcomes.size());
        assertTrue(outcomes.stream().allMatch(o -> o instanceof Outcome.Delivered));
        assertEquals(500, count(table));
        // Rows written by one transaction share its xmin: one commit for all 500.
        assertEquals(1, queryLong("SELECT count(DISTINCT xmin::text) FROM " + table));
    }

    @Test
    void aBacklogLargerThanTheBatchSizeIsDeliveredAsPrefixes() throws Exception {
        PostgresConnector connector = connector(table, 100);
        List<Delivery> backlog = new ArrayList<>();
        for (int i = 0; i < 250; i++) backlog.add(delivery(oru("C-" + i, "P-" + i)));
        int calls = 0;
        for (int from = 0; from < backlog.size() && calls < 10; calls++) {
            List<Outcome> outcomes = connector.deliverAll(backlog.subList(from, backlog.size()));
            assertTrue(outcomes.size() <= 100 && outcomes.stream().allMatch(o -> o instanceof Outcome.Delivered), outcomes.toString());
            from += outcomes.size();
        }
        assertEquals(3, calls);
        assertEquals(250, count(table));
        assertEquals(3, queryLong("SELECT count(DISTINCT xmin::text) FROM " + table));
    }

    @Test
    void aConstraintViolationIsUndeliverableAndTheRecordsBeforeItAreDelivered() throws Exception {
        sql("CREATE TABLE " + table + " (id uuid PRIMARY KEY, received_at timestamptz NOT NULL, msg_type text NOT NULL,"
                + " trigger text NOT NULL, control_id text NOT NULL CONSTRAINT no_bad_control_id CHECK (control_id <> 'BAD'),"
                + " sending_app text NOT NULL, sending_facility text NOT NULL, patient_id text NOT NULL, raw bytea NOT NULL,"
                + " charset text NOT NULL)");
        PostgresConnector connector = connector(table, 50);
        StoredMessage bad = oru("BAD", "SECRET-PATIENT-42");

        Outcome alone = connector.deliver(delivery(bad));
        Outcome.Undeliverable undeliverable = assertInstanceOf(Outcome.Undeliverable.class, alone);
        assertEquals("SQLState 23514 (constraint no_bad_control_id)", undeliverable.reason());

        List<Delivery> batch = new ArrayList<>();
        for (int i = 0; i < 3; i++) batch.add(delivery(oru("C-" + i, "P-" + i)));
        batch.add(delivery(bad));
        for (int i = 4; i < 6; i++) batch.add(delivery(oru("C-" + i, "P-" + i)));
        List<Outcome> outcomes = connector.deliverAll(batch);
        assertEquals(4, outcomes.size(), "the prefix up to the bad record: " + outcomes);
        assertEquals(List.of(Outcome.DELIVERED, Outcome.DELIVERED, Outcome.DELIVERED), outcomes.subList(0, 3));
        assertInstanceOf(Outcome.Undeliverable.class, outcomes.get(3));
        assertEquals(3, count(table));
        // The connection survived the refusal: the records after the bad one go in.
        assertEquals(List.of(Outcome.DELIVERED, Outcome.DELIVERED), connector.deliverAll(batch.subList(4, 6)));
        assertEquals(5, count(table));
    }

    @Test
    void aValueTheColumnCannotHoldIsUndeliverableWithoutQuotingIt() throws Exception {
        sql("CREATE TABLE " + table + " (id uuid PRIMARY KEY, received_at timestamptz NOT NULL, msg_type text NOT NULL,"
                + " trigger text NOT NULL, control_id text NOT NULL, sending_app text NOT NULL, sending_facility text NOT NULL,"
                + " patient_id varchar(8) NOT NULL, raw bytea NOT NULL, charset text NOT NULL)");
        PostgresConnector connector = connector(table, 50);
        Outcome outcome = connector.deliver(delivery(oru("C-1", "A-PATIENT-ID-TOO-LONG")));
        Outcome.Undeliverable undeliverable = assertInstanceOf(Outcome.Undeliverable.class, outcome);
        assertTrue(undeliverable.reason().startsWith("SQLState 22001"), undeliverable.reason());
        assertFalse(undeliverable.reason().contains("PATIENT"), undeliverable.reason());
        assertEquals(Outcome.DELIVERED, connector.deliver(delivery(oru("C-2", "P-2"))));
    }

    @Test
    void aTableOfTheWrongShapeIsRetryableUntilAnOperatorFixesIt() throws Exception {
        sql("CREATE TABLE " + table + " (id uuid PRIMARY KEY, received_at timestamptz NOT NULL, msg_type text NOT NULL,"
                + " trigger text NOT NULL, control_id text NOT NULL, sending_app text NOT NULL, sending_facility text NOT NULL,"
                + " raw bytea NOT NULL, charset text NOT NULL)");
        PostgresConnector connector = connector(table, 50);
        Delivery d = delivery(oru("C-1", "P-1"));
        Outcome.Retryable retryable = assertInstanceOf(Outcome.Retryable.class, connector.deliver(d));
        assertTrue(retryable.reason().startsWith("SQLState 42703: "), retryable.reason());
        sql("ALTER TABLE " + table + " ADD COLUMN patient_id text NOT NULL DEFAULT ''");
        assertEquals(Outcome.DELIVERED, connector.deliver(d));
        assertEquals("P-1", queryString("SELECT patient_id FROM " + table));
    }

    @Test
    void anUnreachableDatabaseIsRetryableWithinTheConnectTimeout() throws Exception {
        PostgresConnector connector = new PostgresConnector("closed-port",
                new ConnectorSettings.Postgres("jdbc:postgresql://127.0.0.1:1/test", USER, "s3cret-pass", table, 10, CONNECT_TIMEOUT));
        connectors.add(connector);
        long start = System.nanoTime();
        Outcome outcome = connector.deliver(delivery(oru("C-1", "P-1")));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        Outcome.Retryable retryable = assertInstanceOf(Outcome.Retryable.class, outcome);
        assertTrue(retryable.reason().startsWith("connecting: SQLState 08001: "), retryable.reason());
        assertFalse(retryable.reason().contains("s3cret-pass"));
        assertTrue(took.compareTo(CONNECT_TIMEOUT) < 0, "took " + took);
    }

    @Test
    void aServerThatAcceptsButNeverAnswersIsRetryableWithinTheConnectTimeout() throws Exception {
        // The kernel completes the handshake into the backlog; nothing ever reads or answers.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            PostgresConnector connector = new PostgresConnector("silent", new ConnectorSettings.Postgres(
                    "jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/test", USER, "", table, 10, Duration.ofSeconds(1)));
            connectors.add(connector);
            long start = System.nanoTime();
            Outcome outcome = connector.deliver(delivery(oru("C-1", "P-1")));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            Outcome.Retryable retryable = assertInstanceOf(Outcome.Retryable.class, outcome);
            assertTrue(retryable.reason().startsWith("connecting: SQLState 08"), retryable.reason());
            assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "took " + took);
        }
    }

    @Test
    void aTerminatedIdleConnectionIsRetryableAndTheNextAttemptReconnects() throws Exception {
        PostgresConnector connector = connector(table, 10);
        assertEquals(Outcome.DELIVERED, connector.deliver(delivery(oru("C-1", "P-1"))));
        assertEquals(1, terminate(connector, ""));
        Delivery second = delivery(oru("C-2", "P-2"));
        Outcome.Retryable retryable = assertInstanceOf(Outcome.Retryable.class, connector.deliver(second));
        assertTrue(retryable.reason().matches("SQLState (08|57P01).*"), retryable.reason());
        assertEquals(Outcome.DELIVERED, connector.deliver(second));
        assertEquals(2, count(table));
    }

    @Test
    void aConnectionTerminatedMidBatchIsRetryableAndTheBatchGoesInOnce() throws Exception {
        PostgresConnector connector = connector(table, 100);
        assertEquals(Outcome.DELIVERED, connector.deliver(delivery(oru("C-0", "P-0")))); // creates the table
        List<Delivery> batch = new ArrayList<>();
        for (int i = 1; i <= 20; i++) batch.add(delivery(oru("C-" + i, "P-" + i)));
        try (Connection locker = DriverManager.getConnection(URL, USER, "");
             var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            // Hold a lock the insert needs, so the batch is provably in flight when its backend is terminated.
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
                s.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
            }
            Future<List<Outcome>> inFlight = executor.submit(() -> connector.deliverAll(batch));
            assertEquals(1, terminate(connector, "Lock"));
            List<Outcome> outcomes = inFlight.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(1, outcomes.size(), outcomes.toString());
            Outcome.Retryable retryable = assertInstanceOf(Outcome.Retryable.class, outcomes.getFirst());
            System.out.println("terminated mid-batch: " + retryable.reason());
            assertTrue(retryable.reason().matches("SQLState (08|57P01).*"), retryable.reason());
            assertFalse(retryable.reason().contains("P-1") || retryable.reason().contains("MSH"), retryable.reason());
            locker.rollback();
        }
        assertEquals(1, count(table), "the terminated transaction left nothing");
        List<Outcome> outcomes = connector.deliverAll(batch);
        assertEquals(20, outcomes.size());
        assertTrue(outcomes.stream().allMatch(o -> o instanceof Outcome.Delivered));
        assertEquals(21, count(table));
    }

    @Test
    void aConnectorUrlFromDatabaseUrlWorks() throws Exception {
        PostgresUrls.Jdbc jdbc = PostgresUrls.jdbcUrl("postgres://" + USER + "@127.0.0.1/test?sslmode=disable&application_name=x");
        PostgresConnector connector = new PostgresConnector("from-url",
                new ConnectorSettings.Postgres(jdbc.jdbcUrl(), jdbc.user(), jdbc.password(), table, 10, CONNECT_TIMEOUT));
        connectors.add(connector);
        assertEquals(Outcome.DELIVERED, connector.deliver(delivery(oru("C-1", "P-1"))));
        assertEquals(1, count(table));
    }

    @Test
    void anInterruptedDispatcherStopsWithoutDelivering() throws Exception {
        PostgresConnector connector = connector(table, 10);
        Thread.currentThread().interrupt();
        try {
            assertThrows(InterruptedException.class, () -> connector.deliver(delivery(oru("C-1", "P-1"))));
        } finally {
            Thread.interrupted();
        }
        assertFalse(tableExists(table));
    }

    /** One row per branch of classify; no database needed. */
    @Test
    void classifiesBySqlState() {
        PostgresConnector connector = new PostgresConnector("classify",
                new ConnectorSettings.Postgres(URL, USER, "pa55word", "t", 10, CONNECT_TIMEOUT));
        String[][] table = {
                {"08001", "retry"}, {"08006", "retry"}, {"53100", "retry"}, {"53300", "retry"}, {"57P01", "retry"},
                {"57P03", "retry"}, {"57014", "retry"}, {"40001", "retry"}, {"40P01", "retry"}, {"55P03", "retry"},
                {"28P01", "retry"}, {"42P01", "retry"}, {"42501", "retry"}, {"42601", "retry"}, {"XX000", "retry"},
                {"25006", "retry"}, {"0A000", "retry"}, {null, "retry"}, {"22021", "dead"}, {"22P02", "dead"},
                {"23505", "dead"}, {"23514", "dead"}, {"23502", "dead"},
        };
        for (String[] row : table) {
            Outcome outcome = connector.classify(new SQLException("value 'PATIENT-1' with pa55word", row[0]));
            Class<?> expected = row[1].equals("retry") ? Outcome.Retryable.class : Outcome.Undeliverable.class;
            assertInstanceOf(expected, outcome, String.valueOf(row[0]));
            String reason = outcome instanceof Outcome.Retryable r ? r.reason() : ((Outcome.Undeliverable) outcome).reason();
            assertFalse(reason.contains("pa55word"), reason);
            if (row[1].equals("dead")) assertEquals("SQLState " + row[0], reason, "no message for 22/23");
        }
        // A batch's own message quotes the entry with its values; the error it carries does not.
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 INSERT ... ('PATIENT-1') was aborted", "08006", 0,
                new int[0]);
        batch.setNextException(new SQLException("An I/O error occurred while sending to the backend.", "08006"));
        assertEquals(new Outcome.Retryable("SQLState 08006: An I/O error occurred while sending to the backend."),
                connector.classify(batch));
        assertEquals(new Outcome.Retryable("SQLState 08006: a batch entry failed"), connector.classify(
                new BatchUpdateException("Batch entry 0 INSERT ... ('PATIENT-1') was aborted", "08006", 0, new int[0])));
        Outcome timeout = connector.classify(new SQLTimeoutException("timed out", (String) null));
        assertInstanceOf(Outcome.Retryable.class, timeout);
        Outcome.Retryable retryable = (Outcome.Retryable) connector.classify(new SQLException("x".repeat(1000), "08006"));
        assertTrue(retryable.reason().length() <= PostgresConnector.REASON_CHARS_MAX + 3);
    }

    @Test
    void roundsTimeoutsUpToWholeSeconds() {
        assertEquals(1, PostgresConnector.wholeSeconds(Duration.ofMillis(1)));
        assertEquals(1, PostgresConnector.wholeSeconds(Duration.ZERO));
        assertEquals(2, PostgresConnector.wholeSeconds(Duration.ofMillis(1500)));
        assertEquals(5, PostgresConnector.wholeSeconds(Duration.ofSeconds(5)));
    }

    @Test
    void refusesATableNameThatIsNotPlain() {
        assertThrows(IllegalArgumentException.class, () -> new PostgresConnector("x",
                new ConnectorSettings.Postgres(URL, USER, "", "t; DROP TABLE x", 10, CONNECT_TIMEOUT)));
    }

    // --- helpers ---

    private PostgresConnector connector(String tableName, int batchSize) {
        PostgresConnector connector = new PostgresConnector("pg-" + table,
                new ConnectorSettings.Postgres(URL, USER, "", tableName, batchSize, CONNECT_TIMEOUT));
        connectors.add(connector);
        return connector;
    }

    /**
     * Terminates the connector's backend once it shows {@code waitEventType} ("" for any state),
     * waiting for it to be gone; returns how many backends were terminated. The pids are read
     * first and terminated one by one, so no other session can be hit.
     */
    private long terminate(PostgresConnector connector, String waitEventType) throws SQLException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) { // each round is a query: paced by the server, bounded by the deadline
            List<Integer> pids = new ArrayList<>();
            try (PreparedStatement s = admin.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ?"
                    + " AND (? = '' OR wait_event_type = ?)")) {
                s.setString(1, "mllp-server " + connector.name());
                s.setString(2, waitEventType);
                s.setString(3, waitEventType);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) pids.add(r.getInt(1));
                }
            }
            if (pids.isEmpty()) continue;
            long terminated = 0;
            for (int pid : pids) {
                try (PreparedStatement s = admin.prepareStatement("SELECT pg_terminate_backend(?, ?)")) {
                    s.setInt(1, pid);
                    s.setLong(2, WAIT.toMillis());
                    try (ResultSet r = s.executeQuery()) {
                        if (r.next() && r.getBoolean(1)) terminated++;
                    }
                }
            }
            return terminated;
        }
        return 0;
    }

    private void assertRow(StoredMessage m, String msgType, String trigger, String patientId) throws SQLException {
        try (PreparedStatement s = admin.prepareStatement("SELECT * FROM " + table + " WHERE id = ?")) {
            s.setObject(1, m.id());
            try (ResultSet r = s.executeQuery()) {
                assertTrue(r.next(), "row " + m.id());
                assertEquals(m.receivedAt(), r.getObject("received_at", OffsetDateTime.class).toInstant());
                assertEquals(msgType, r.getString("msg_type"));
                assertEquals(trigger, r.getString("trigger"));
                assertEquals(m.controlId(), r.getString("control_id"));
                assertEquals(m.sendingApplication(), r.getString("sending_app"));
                assertEquals(m.sendingFacility(), r.getString("sending_facility"));
                assertEquals(patientId, r.getString("patient_id"));
                assertArrayEquals(m.raw(), r.getBytes("raw"));
                assertEquals(m.charset(), r.getString("charset"));
            }
        }
    }

    private StoredMessage oru(String controlId, String patientId) {
        byte[] raw = ("MSH|^~\\&|LAB|HOSP|EHR|WARD|20240305101530||ORU^R01^ORU_R01|" + controlId + "|P|2.5.1\r"
                + "PID|1||" + patientId + "^^^HOSP^MR||DOE^JOHN\rOBR|1\rOBX|1|NM|GLU||5.5|mmol/L\r").getBytes(StandardCharsets.ISO_8859_1);
        return message("LAB", "HOSP", "ORU^R01^ORU_R01", controlId, "ISO-8859-1", raw, Instant.parse("2024-03-05T10:15:30Z"));
    }

    private StoredMessage message(String app, String facility, String type, String controlId, String charset, byte[] raw,
                                  Instant receivedAt) {
        return new StoredMessage(new UUID(random.nextLong(), random.nextLong()), receivedAt, "127.0.0.1:40000", "", app, facility,
                type, controlId, charset, List.of("pg"), raw);
    }

    private static Delivery delivery(StoredMessage m) {
        return new Delivery(0, m);
    }

    /** Latin-1 bytes that are not HL7 delimiters nor control characters, so the message still parses. */
    private byte[] latin1Noise(int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < length) {
            int b = 0x20 + random.nextInt(0xE0);
            if (b == '|' || b == '^' || b == '~' || b == '\\' || b == '&' || (b >= 0x7F && b < 0xA0)) continue;
            out.write(b);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    private static void sql(String sql) throws SQLException {
        try (Statement s = admin.createStatement()) {
            s.execute(sql);
        }
    }

    private static long count(String tableName) throws SQLException {
        return queryLong("SELECT count(*) FROM " + tableName);
    }

    private static long queryLong(String sql) throws SQLException {
        try (Statement s = admin.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    private static String queryString(String sql) throws SQLException {
        try (Statement s = admin.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getString(1);
        }
    }

    private static boolean tableExists(String name) throws SQLException {
        try (PreparedStatement s = admin.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getBoolean(1);
            }
        }
    }

    private static List<String> columns(String name) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement s = admin.prepareStatement("SELECT column_name, data_type FROM information_schema.columns"
                + " WHERE table_name = ? ORDER BY ordinal_position")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) columns.add(r.getString(1) + " " + r.getString(2));
            }
        }
        return columns;
    }
}
