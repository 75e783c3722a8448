package org.mllpserver.config;

/**
 * Every environment variable the server reads, with its default and meaning. The README's
 * configuration table lists exactly these (a test keeps the two in step).
 */
public enum Variable {
    LISTEN_ADDR(":2575", "MLLP listen address: `:2575`, `127.0.0.1:2575` or `[::1]:2575`"),
    MAX_CONNECTIONS("0", "open connections at once, per listener (plain and TLS each); 0 = no limit. A connection over the limit is closed at once and counted"),
    IDLE_TIMEOUT("30s", "close a connection on which no frame starts for this long"),
    FRAME_TIMEOUT("60s", "close a connection whose started frame is not complete this long after its start byte"),
    MAX_FRAME_SIZE("4MiB", "largest frame accepted; a bigger one is refused (NAK when MSH-10 is readable) and the connection closed"),
    MAX_INFLIGHT_BYTES("", "bytes all connections together may hold in frames being read or handled; empty = a 16th of the maximum heap, at least twice MAX_FRAME_SIZE. When it is full, a connection is not read until room frees up, and the largest unfinished frame gives way to smaller ones (see Limits)"),
    ADMIN_ADDR("127.0.0.1:8080", "admin HTTP listener (`/healthz`, `/readyz`, `/metrics`, `/api`); set it empty or `off` to turn it off"),
    ADMIN_TOKEN("", "bearer token `/api` requires (`Authorization: Bearer ...`); empty = `/api` answers only on a loopback ADMIN_ADDR"),
    LOG_BUFFER_LINES("2000", "recent log lines kept in memory for `/api/logs` and `./run.sh logs` (each cut at 8 KiB)"),
    DRAIN_TIMEOUT("30s", "on SIGTERM/SIGINT: time to answer frames in flight before remaining connections are closed"),
    DEFAULT_CHARSET("ISO-8859-1", "charset for messages whose MSH-18 is empty (HL7 table 0211 name or Java name)"),
    CHECK_REQUIRED_SEGMENTS("false", "refuse a message that lacks a segment its v2.5 structure requires (e.g. ADT^A01 without PID)"),
    TLS_CERT_FILE("", "PEM certificate chain (leaf first); with TLS_KEY_FILE turns TLS on"),
    TLS_KEY_FILE("", "PEM private key: PKCS#8, PKCS#1 RSA or SEC1 EC (not encrypted)"),
    TLS_CLIENT_CA("", "PEM CA certificate(s): when set, every client must present a certificate they signed (mutual TLS)"),
    TLS_MIN_VERSION("1.2", "`1.2` (TLS 1.2 with AEAD, forward-secret suites only, and 1.3) or `1.3`"),
    TLS_LISTEN_ADDR("", "where TLS listens beside the plain listener on LISTEN_ADDR; empty = TLS only, on LISTEN_ADDR"),
    TLS_ALLOWED_CLIENTS("", "client certificates allowed, `;`-separated: a subject DN (`CN=lab1,O=Hospital`) or a SAN (`DNS:lab1.example`, `IP:10.0.0.7`); empty = any the CA signed"),
    TLS_WATCH("false", "also reload the TLS files when they change on disk (checked every 10 s), as Kubernetes secret updates do; SIGHUP always reloads"),
    TLS_HANDSHAKE_TIMEOUT("10s", "close a TLS connection whose handshake has not finished in this time"),
    ERROR_ACK_CODE("AE", "MSA-1 for unparseable messages and internal errors: `AE` or `AR`"),
    VALIDATION_ACK_CODE("AR", "MSA-1 when a validation rule fails: `AR` or `AE` (CR or CE in enhanced mode)"),
    CONFIG_FILE("", "an optional YAML file with `connectors` and `validation.rules` (see Rules and connectors); empty = none"),
    MAX_RULE_COST("1000", "the highest static cost estimate a rule or filter may have; over it, the server does not start"),
    MAX_RULE_STEPS("100000", "evaluation steps one rule or filter may take on one message; over it, the message gets AE"),
    MAX_RULE_TIME("250ms", "time one rule or filter may take on one message; over it, the message gets AE"),
    RETRY_INITIAL("1s", "a connector's first retry waits about this long; each next one twice as long (with jitter)"),
    RETRY_MAX_DELAY("5m", "the longest wait between two attempts to deliver a record"),
    RETRY_MAX_ATTEMPTS("10", "attempts per record before it becomes a dead letter (each connector may override these three)"),
    ACK_SENDING_APPLICATION("", "MSH-3 of our ACKs (HD, e.g. `MLLP^1.2.3^ISO`); empty = the inbound MSH-5"),
    ACK_SENDING_FACILITY("", "MSH-4 of our ACKs; empty = the inbound MSH-6"),
    DATA_DIR("./data", "where the journal lives (created if missing); one server per directory"),
    JOURNAL_SEGMENT_SIZE("64MiB", "a journal segment file is closed and a new one started at this size"),
    DEDUP_WINDOW("24h", "a message whose MSH-3, MSH-4 and MSH-10 were accepted within this time gets the original ACK again and is not stored twice; 0 = off"),
    DEDUP_MAX_ENTRIES("", "the most messages the duplicate index holds; past it the oldest go first and the effective window shrinks (logged once a minute). Empty = an eighth of the maximum heap at 110 bytes a message"),
    CHECKPOINT_INTERVAL("1m", "how often the indexes (duplicate index, open dead letters) are saved with their journal position, so that start-up reads only the journal after it; also at every clean stop"),
    RETENTION("7d", "journal segments are deleted only when their newest record is older than this"),
    AUDIT_RETENTION("2190d", "audit trail segments (`DATA_DIR/audit`) are deleted only when their newest record is older than this (six years: HIPAA's documentation period)"),
    LOG_LEVEL("INFO", "`ERROR`, `WARNING`, `INFO`, `DEBUG` or `TRACE`"),
    LOG_PAYLOADS("false", "log each message's text. Patient data: leave off in production");

    private final String defaultValue;
    private final String description;

    Variable(String defaultValue, String description) {
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }
}
