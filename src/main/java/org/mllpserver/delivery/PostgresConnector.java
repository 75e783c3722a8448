package org.mllpserver.delivery;

import org.mllpserver.hl7.MessageReader;
import org.mllpserver.hl7.MshHeader;
import org.mllpserver.journal.StoredMessage;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Pattern;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Inserts each record as one row of a PostgreSQL table, over JDBC.
 *
 * <p><b>What it stores.</b> The table ({@code settings.table()}, a plain name or
 * {@code schema.table}) is created on connecting when it is missing:
 * <pre>
 * id uuid PRIMARY KEY           the record's stable id
 * received_at timestamptz       when the server received the message (milliseconds)
 * msg_type text, trigger text   MSH-9.1 and MSH-9.2, split on the message's own component separator
 * control_id text               MSH-10 as received
 * sending_app text              MSH-3 as received
 * sending_facility text         MSH-4 as received
 * patient_id text               PID-3.1 of the first repetition, escapes decoded; "" when there is none
 * raw bytea                     the message, byte for byte as received
 * charset text                  the Java charset the server decoded it with
 * </pre>
 * Every text column is metadata read from {@code raw}, which is the truth; a NUL character, which
 * PostgreSQL text cannot hold, is stored in them as U+FFFD so that it never makes a record
 * undeliverable. The columns come from parsing {@code raw} with {@link MessageReader} (MSH-18
 * decides the charset, the stored charset is the default); when the message cannot be parsed,
 * msg_type and trigger are split from the stored MSH-9 on '^' and patient_id is "".
 *
 * <p><b>Idempotency.</b> {@code INSERT ... ON CONFLICT (id) DO NOTHING}: delivery is at least
 * once (a crash before the cursor moved, a commit whose answer was lost to a timeout), and a
 * repeat of a record leaves exactly one row.
 *
 * <p><b>Batching.</b> {@link #deliverAll} inserts up to {@code settings.batchSize()} records as
 * one JDBC batch in one transaction (the driver sends it in one round trip and folds it into
 * multi-row INSERTs) with one commit, and returns their outcomes; the dispatcher passes the rest
 * in its next call. When that batch fails on one record's data (SQLState class 22 or 23), the
 * transaction is rolled back and the records are inserted one at a time, each in its own
 * transaction, up to and including the first that fails: the outcomes returned are that prefix.
 *
 * <p><b>Classification</b> ({@link #classify}, by SQLState class):
 * <table>
 * <caption>outcomes</caption>
 * <tr><th>SQLState</th><th>meaning</th><th>outcome</th></tr>
 * <tr><td>08</td><td>connection refused, reset or lost</td><td>Retryable (the next attempt reconnects)</td></tr>
 * <tr><td>53</td><td>insufficient resources (disk full, too many connections)</td><td>Retryable</td></tr>
 * <tr><td>57</td><td>operator intervention (shutdown, starting up, statement cancelled)</td><td>Retryable</td></tr>
 * <tr><td>40</td><td>40001 serialization failure, 40P01 deadlock</td><td>Retryable</td></tr>
 * <tr><td>55</td><td>55P03 lock not available</td><td>Retryable</td></tr>
 * <tr><td>28</td><td>invalid authorization (user, password, pg_hba)</td><td>Retryable</td></tr>
 * <tr><td>42</td><td>syntax, privilege, undefined table: a configuration an operator fixes</td><td>Retryable</td></tr>
 * <tr><td>22</td><td>data exception (invalid byte sequence, value too long)</td><td>Undeliverable</td></tr>
 * <tr><td>23</td><td>integrity constraint violation (CHECK, NOT NULL, another unique key)</td><td>Undeliverable</td></tr>
 * <tr><td>timeout</td><td>{@link SQLTimeoutException}</td><td>Retryable</td></tr>
 * <tr><td>anything else</td><td>internal error, read-only standby, unknown</td><td>Retryable</td></tr>
 * </table>
 * Failures while connecting or creating the table are Retryable whatever their state: no record
 * was sent yet. A retryable failure closes the connection (the next attempt reconnects and
 * re-creates a dropped table); an undeliverable one rolls back and keeps it.
 *
 * <p><b>Secrets and patient data.</b> The password goes to the driver as a connection property and
 * nowhere else: it is never logged, never part of an outcome's reason, and a reason that would
 * contain it has it replaced by {@code ***}. Reasons for classes 22 and 23 hold only the SQLState
 * and the constraint or column name, since PostgreSQL's messages for them can quote values; the
 * driver is told not to add the server's DETAIL text to any message.
 *
 * <p><b>Timeouts.</b> The settings' connect timeout bounds the TCP connect and the login, each;
 * {@link #SOCKET_TIMEOUT} bounds every read on an open connection, so a delivery returns within
 * them. A socket timeout leaves the fate of a commit unknown; the next attempt repeats the
 * insert, which the primary key makes harmless.
 *
 * <p><b>Threads.</b> Not thread-safe: one dispatcher thread calls it at a time (the
 * {@link Connector} contract). The connection is opened lazily on the first delivery.
 */
public final class PostgresConnector implements Connector {

    private static final System.Logger LOG = System.getLogger(PostgresConnector.class.getName());

    /**
     * How long one read on an open connection may wait: a batch of a few hundred rows is
     * committed in milliseconds, so this only ends a connection that has silently died (no
     * RST, e.g. a dropped route) instead of waiting for TCP keepalive's hours.
     */
    static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
    /** An outcome's reason is read by people and stored with dead letters: a driver message longer than this is cut. */
    static final int REASON_CHARS_MAX = 300;
    /** Message readers kept, one per stored charset name; a journal holds a handful of charsets. */
    private static final int READERS_MAX = 8;
    /** The same rule the configuration checks; checked again because the name is put into SQL text. */
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

    private final String name;
    private final ConnectorSettings.Postgres settings;
    private final String createSql;
    private final String insertSql;
    private final Map<String, MessageReader> readers = new HashMap<>();
    /** Null until connected and after a retryable failure; only the dispatcher thread touches it. */
    private Connection connection;

    public PostgresConnector(String name, ConnectorSettings.Postgres settings) {
        if (!TABLE_NAME.matcher(settings.table()).matches()) {
            throw new IllegalArgumentException("connector " + name + ": table \"" + settings.table() + "\" is not a plain SQL name");
        }
        if (settings.batchSize() < 1) throw new IllegalArgumentException("connector " + name + ": batch size must be at least 1");
        this.name = name;
        this.settings = settings;
        this.createSql = "CREATE TABLE IF NOT EXISTS " + settings.table() + " (id uuid PRIMARY KEY, received_at timestamptz NOT NULL,"
                + " msg_type text NOT NULL, trigger text NOT NULL, control_id text NOT NULL, sending_app text NOT NULL,"
                + " sending_facility text NOT NULL, patient_id text NOT NULL, raw bytea NOT NULL, charset text NOT NULL)";
        this.insertSql = "INSERT INTO " + settings.table() + " (id, received_at, msg_type, trigger, control_id, sending_app,"
                + " sending_facility, patient_id, raw, charset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome deliver(Delivery delivery) throws InterruptedException {
        return deliverAll(List.of(delivery)).getFirst();
    }

    /** Records waiting in a backlog go in {@code settings.batchSize()} at a time. */
    @Override
    public int maxBatch() {
        return settings.batchSize();
    }

    /**
     * Inserts the first {@code settings.batchSize()} records of {@code batch} in one transaction;
     * see the class comment for the outcomes when that fails.
     */
    @Override
    public List<Outcome> deliverAll(List<Delivery> batch) throws InterruptedException {
        if (batch.isEmpty()) throw new IllegalArgumentException("nothing to deliver");
        if (Thread.interrupted()) throw new InterruptedException();
        Connection c;
        try {
            c = connection();
        } catch (SQLException e) {
            stopIfInterrupted();
            // No record was sent: whatever failed (even a 23505 from two servers creating the table at once) is not a record's fault.
            return List.of(new Outcome.Retryable("connecting: " + reasonOf(classify(e))));
        }
        // Read after connecting: while the database is down, retries cost no parsing.
        List<Row> rows = batch.subList(0, Math.min(batch.size(), settings.batchSize())).stream().map(this::row).toList();
        try {
            insert(c, rows);
            return Collections.nCopies(rows.size(), Outcome.DELIVERED);
        } catch (SQLException e) {
            stopIfInterrupted();
            Outcome outcome = afterFailure(e);
            // One record's data broke the batch: find it, delivering the ones before it.
            if (outcome instanceof Outcome.Undeliverable && rows.size() > 1) return oneByOne(c, rows);
            return List.of(outcome);
        }
    }

    /** Each row in its own transaction, up to and including the first that is not delivered. */
    private List<Outcome> oneByOne(Connection c, List<Row> rows) throws InterruptedException {
        List<Outcome> outcomes = new ArrayList<>();
        for (Row row : rows) {
            try {
                insert(c, List.of(row));
                outcomes.add(Outcome.DELIVERED);
            } catch (SQLException e) {
                stopIfInterrupted();
                outcomes.add(afterFailure(e));
                break;
            }
        }
        return outcomes;
    }

    private void insert(Connection c, List<Row> rows) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(insertSql)) {
            for (Row row : rows) {
                bind(insert, row);
                insert.addBatch();
            }
            insert.executeBatch(); // one round trip for the whole batch
        }
        c.commit(); // the rows are the downstream's from here on; only now may the cursor move
    }

    private static void bind(PreparedStatement insert, Row row) throws SQLException {
        insert.setObject(1, row.id());
        insert.setObject(2, row.receivedAt());
        insert.setString(3, row.msgType());
        insert.setString(4, row.trigger());
        insert.setString(5, row.controlId());
        insert.setString(6, row.sendingApp());
        insert.setString(7, row.sendingFacility());
        insert.setString(8, row.patientId());
        insert.setBytes(9, row.raw());
        insert.setString(10, row.charset());
    }

    /**
     * Classifies the failure, then leaves the connection fit for the next attempt: after a
     * record's own data was refused the connection is sound (roll back, keep it); after anything
     * else it may be broken or mid-transaction in an unknown state (close it; the next attempt
     * reconnects).
     */
    private Outcome afterFailure(SQLException e) {
        Outcome outcome = classify(e);
        if (outcome instanceof Outcome.Undeliverable && connection != null) {
            try {
                connection.rollback();
                return outcome;
            } catch (SQLException rollbackFailed) {
                LOG.log(DEBUG, () -> "connector " + name + ": rollback failed (" + rollbackFailed.getSQLState() + "); reconnecting");
            }
        }
        closeConnection();
        return outcome;
    }

    /**
     * The one place a failure becomes an outcome. Reasons hold the SQLState and, where
     * PostgreSQL's message cannot quote a value, the message; never the password.
     */
    Outcome classify(SQLException failure) {
        SQLException e = serverError(failure);
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        // A timeout of one operation (a query timeout, a login timeout): the server was slow, not the record wrong.
        if (e instanceof SQLTimeoutException) return new Outcome.Retryable(described(state, e));
        return switch (state.length() >= 2 ? state.substring(0, 2) : "") {
            // Connection exception (refused, reset, lost mid-statement, no route): the next attempt reconnects.
            case "08" -> new Outcome.Retryable(described(state, e));
            // Insufficient resources (disk full, out of memory, too many connections): frees up, or an operator frees it.
            case "53" -> new Outcome.Retryable(described(state, e));
            // Operator intervention: 57P01-57P03 shutdown, crash, starting up; 57014 a statement cancelled or timed out.
            case "57" -> new Outcome.Retryable(described(state, e));
            // 40001 serialization failure, 40P01 deadlock (e.g. a trigger that locks): the transaction lost a race, a rerun wins.
            case "40" -> new Outcome.Retryable(described(state, e));
            // 55P03 lock not available (lock_timeout: an operator's ALTER TABLE holds a lock); it is let go.
            case "55" -> new Outcome.Retryable(described(state, e));
            // Invalid authorization (wrong password, pg_hba): an operator fixes the credentials, not the record.
            case "28" -> new Outcome.Retryable(described(state, e));
            // Syntax, privilege, undefined table or column: the database is configured wrong for every record alike;
            // once an operator fixes it the same record goes in, so a dead letter now would lose it.
            case "42" -> new Outcome.Retryable(described(state, e));
            // Data exception (invalid byte sequence, value too long for a column an operator narrowed): this record's
            // values will never go in. The message can quote the value: state and column only.
            case "22" -> new Outcome.Undeliverable(named(state, e));
            // Integrity constraint (a CHECK, NOT NULL, another unique key, a foreign key): this record violates it
            // however often it is sent. The message and detail quote the row: state and constraint only.
            case "23" -> new Outcome.Undeliverable(named(state, e));
            // Anything else (XX internal error, 25006 read-only transaction on a standby after a failover, 0A, a
            // driver error without a state): more likely the server or the setup than this record, and the retry
            // policy still ends in a dead letter after its last attempt. The message is unknown: state only.
            default -> new Outcome.Retryable("SQLState " + (state.isEmpty() ? "(none)" : state));
        };
    }

    /**
     * The exception that carries the server's error. A {@link BatchUpdateException}'s own message
     * quotes the batch entry with its parameter values; the error it wraps does not.
     */
    private static SQLException serverError(SQLException e) {
        if (!(e instanceof BatchUpdateException)) return e;
        if (e.getNextException() != null) return e.getNextException();
        if (e.getCause() instanceof SQLException cause) return cause;
        return new SQLException("a batch entry failed", e.getSQLState()); // keeps the state, drops the quoting message
    }

    /** SQLState and message, for states whose messages cannot quote values. */
    private String described(String state, SQLException e) {
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        // The primary message only: the driver's full text adds hints, context and where-clauses.
        String message = server != null && server.getMessage() != null ? server.getMessage() : String.valueOf(e.getMessage());
        if (!settings.password().isEmpty()) message = message.replace(settings.password(), "***");
        String reason = "SQLState " + state + ": " + message;
        return reason.length() <= REASON_CHARS_MAX ? reason : reason.substring(0, REASON_CHARS_MAX) + "...";
    }

    /** SQLState and the constraint or column the server names, without the message. */
    private static String named(String state, SQLException e) {
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        if (server == null) return "SQLState " + state;
        if (server.getConstraint() != null) return "SQLState " + state + " (constraint " + server.getConstraint() + ")";
        if (server.getColumn() != null) return "SQLState " + state + " (column " + server.getColumn() + ")";
        return "SQLState " + state;
    }

    private static String reasonOf(Outcome outcome) {
        return switch (outcome) {
            case Outcome.Retryable r -> r.reason();
            case Outcome.Undeliverable u -> u.reason();
            case Outcome.Delivered d -> "delivered";
        };
    }

    /** The open connection, or a new one with the table made ready. */
    private Connection connection() throws SQLException {
        if (connection != null) return connection;
        Connection c = DriverManager.getConnection(settings.jdbcUrl(), properties());
        try {
            try (Statement create = c.createStatement()) {
                create.execute(createSql); // autocommit: the table exists before the first insert's transaction
            }
            c.setAutoCommit(false); // each batch is one transaction, committed by insert()
        } catch (SQLException e) {
            closeQuietly(c);
            throw e;
        }
        LOG.log(INFO, "connector " + name + ": connected to PostgreSQL; table " + settings.table() + " ready");
        connection = c;
        return c;
    }

    /** The driver's properties; the URL's own parameters take precedence over them. */
    private Properties properties() {
        Properties p = new Properties();
        if (!settings.user().isEmpty()) p.setProperty("user", settings.user());
        if (!settings.password().isEmpty()) p.setProperty("password", settings.password());
        String connectSeconds = Long.toString(wholeSeconds(settings.connectTimeout()));
        p.setProperty("connectTimeout", connectSeconds); // the TCP connect
        p.setProperty("loginTimeout", connectSeconds); // TLS and authentication, against a server that accepts and then says nothing
        p.setProperty("socketTimeout", Long.toString(wholeSeconds(SOCKET_TIMEOUT)));
        p.setProperty("ApplicationName", "mllp-server " + name); // for pg_stat_activity
        p.setProperty("logServerErrorDetail", "false"); // DETAIL quotes row values; keep it out of every message
        p.setProperty("reWriteBatchedInserts", "true"); // a batch becomes multi-row INSERTs: fewer statements to run
        return p;
    }

    /** The driver counts in whole seconds and reads 0 as "no limit": round up, at least 1. */
    static long wholeSeconds(Duration d) {
        long seconds = d.toSeconds() + (d.toNanosPart() > 0 ? 1 : 0);
        return Math.max(1, seconds);
    }

    private Row row(Delivery delivery) {
        StoredMessage m = delivery.message();
        MessageReader.Result parsed = reader(m.charset()).read(m.raw());
        // MSH-9 on the message's own component separator; split on '^' from the stored MSH-9 when MSH-2 is unusable.
        Optional<MshHeader> header = parsed.header().filter(h -> h.delimiters().isPresent());
        String[] split = m.messageType().split("\\^", -1);
        String msgType = header.map(MshHeader::messageType).orElse(split[0].strip());
        String trigger = header.map(MshHeader::triggerEvent).orElse(split.length > 1 ? split[1].strip() : "");
        String patientId = parsed instanceof MessageReader.Parsed p ? p.message().get("PID", 1, 3, 1, 1, 1) : "";
        return new Row(m.id(), OffsetDateTime.ofInstant(m.receivedAt(), ZoneOffset.UTC), text(msgType), text(trigger),
                text(m.controlId()), text(m.sendingApplication()), text(m.sendingFacility()), text(patientId), m.raw(),
                text(m.charset()));
    }

    /** A reader whose default charset (for an empty MSH-18) is the one the server decoded the message with. */
    private MessageReader reader(String charsetName) {
        MessageReader reader = readers.get(charsetName);
        if (reader != null) return reader;
        reader = new MessageReader(new MessageReader.Settings(charset(charsetName), false));
        if (readers.size() < READERS_MAX) readers.put(charsetName, reader);
        return reader;
    }

    private static Charset charset(String name) {
        try {
            return Charset.forName(name);
        } catch (IllegalArgumentException e) { // unknown or unsupported here: the raw bytes are stored anyway
            LOG.log(WARNING, "stored charset " + name + " is not known to this JVM; reading metadata as ISO-8859-1");
            return StandardCharsets.ISO_8859_1;
        }
    }

    /** PostgreSQL text cannot hold NUL: a metadata column must not make the record undeliverable. */
    private static String text(String value) {
        return value.indexOf('\0') < 0 ? value : value.replace('\0', '\uFFFD');
    }

    private void stopIfInterrupted() throws InterruptedException {
        if (Thread.currentThread().isInterrupted()) {
            closeConnection(); // the driver may have given up mid-statement
            Thread.interrupted();
            throw new InterruptedException();
        }
    }

    private void closeConnection() {
        if (connection == null) return;
        closeQuietly(connection);
        connection = null;
    }

    private void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            LOG.log(DEBUG, () -> "connector " + name + ": closing the connection failed (" + e.getSQLState() + ")");
        }
    }

    @Override
    public void close() {
        closeConnection();
    }

    /** One table row; the columns in table order. */
    private record Row(UUID id, OffsetDateTime receivedAt, String msgType, String trigger, String controlId, String sendingApp,
                       String sendingFacility, String patientId, byte[] raw, String charset) {}
}
