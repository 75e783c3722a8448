package org.mllpserver.config;

import org.mllpserver.hl7.AckCode;
import org.mllpserver.hl7.AckWriter;
import org.mllpserver.hl7.Charsets;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.intake.Intake;
import org.mllpserver.journal.Journal;
import org.mllpserver.mllp.ListenAddress;
import org.mllpserver.mllp.MllpListener;
import org.mllpserver.delivery.RetryPolicy;
import org.mllpserver.rules.RuleSet;
import org.mllpserver.telemetry.TelemetrySettings;
import org.mllpserver.tls.PeerIdentity;
import org.mllpserver.tls.TlsException;
import org.mllpserver.tls.TlsMaterial;
import org.mllpserver.tls.TlsVersion;

import java.nio.charset.Charset;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The only code that reads the environment. Reads every {@link Variable}, validates each, and
 * either returns the whole {@link ServerConfig} or throws one {@link ConfigException} listing
 * every problem. An unset or blank variable takes its default.
 */
public final class ConfigLoader {

    /** Longer than any sensible idle or frame timeout: a larger value is a typo (e.g. a unit forgotten). */
    private static final Duration MAX_TIMEOUT = Duration.ofDays(30);
    /** An MSH segment alone is about 100 bytes; below 1 KiB nearly every message would be refused. */
    private static final long MIN_FRAME_BYTES = 1024;
    /** A frame is held in memory (and a record is limited to 1 GiB plus metadata). */
    private static final long MAX_FRAME_BYTES = 1L << 30;
    /** A terabyte of frames in memory would be a typo. */
    private static final long MAX_INFLIGHT_BYTES = 1L << 40;
    /** Each connection is a virtual thread and a socket; beyond this, file descriptors run out first. */
    private static final int MAX_CONNECTION_LIMIT = 1_000_000;
    /** Smaller segments would mean a file (and a directory fsync) every few messages. */
    private static final long MIN_SEGMENT_BYTES = 64 * 1024;
    /** A segment is scanned whole at start; a terabyte would be a typo. */
    private static final long MAX_SEGMENT_BYTES = 1L << 40;
    /** Far beyond any sensible rule; a larger value is a typo. */
    private static final long MAX_RULE_COST = 1_000_000_000L;
    /** A billion steps is tens of seconds of CPU for one message. */
    private static final long MAX_RULE_STEPS = 1_000_000_000L;
    /** Ten years: beyond any retention duty, so a larger value is a typo. */
    private static final Duration MAX_RETENTION = Duration.ofDays(3650);

    private final Map<String, String> env;
    private final long maxHeapBytes;
    private final List<String> problems = new ArrayList<>();

    private ConfigLoader(Map<String, String> env, long maxHeapBytes) {
        this.env = env;
        this.maxHeapBytes = maxHeapBytes;
    }

    /**
     * Parses and prepares the configuration the server runs with: every problem of both steps
     * is listed at once (the rules are compiled even when other settings are bad).
     */
    public static Prepared load(Map<String, String> env) throws ConfigException {
        return load(env, Runtime.getRuntime().maxMemory());
    }

    /** As {@link #load(Map)}, for a process whose maximum heap is {@code maxHeapBytes} (defaults derived from it). */
    public static Prepared load(Map<String, String> env, long maxHeapBytes) throws ConfigException {
        ConfigLoader loader = new ConfigLoader(env, maxHeapBytes);
        ServerConfig config = loader.build();
        Prepared prepared = prepare(config, loader.problems);
        if (!loader.problems.isEmpty()) throw new ConfigException(loader.problems);
        return prepared;
    }

    /**
     * Parses the configuration only: no rule compiled, no TLS file read. For commands that only
     * read the journal, which must work whatever state a rule or a key file is in.
     */
    public static ServerConfig parse(Map<String, String> env) throws ConfigException {
        ConfigLoader loader = new ConfigLoader(env, Runtime.getRuntime().maxMemory());
        ServerConfig config = loader.build();
        if (!loader.problems.isEmpty()) throw new ConfigException(loader.problems);
        return config;
    }

    /** Compiles the rules and filters and loads the TLS files of a parsed configuration; every problem listed at once. */
    public static Prepared prepare(ServerConfig config) throws ConfigException {
        List<String> problems = new ArrayList<>();
        Prepared prepared = prepare(config, problems);
        if (!problems.isEmpty()) throw new ConfigException(problems);
        return prepared;
    }

    private static Prepared prepare(ServerConfig config, List<String> problems) {
        RuleSet rules = RoutingLoader.compile(config.routing(), config.ruleLimits(), problems);
        Optional<TlsMaterial> material = config.tls().flatMap(t -> tlsMaterial(t, problems));
        return new Prepared(config, rules, material);
    }

    /** Reads and checks the TLS files; a problem per unreadable file, or one for what is wrong with them. */
    private static Optional<TlsMaterial> tlsMaterial(TlsSettings tls, List<String> problems) {
        boolean readable = readable(Variable.TLS_CERT_FILE, tls.certFile(), problems) & readable(Variable.TLS_KEY_FILE, tls.keyFile(), problems)
                & tls.clientCaFile().map(ca -> readable(Variable.TLS_CLIENT_CA, ca, problems)).orElse(true);
        if (!readable) return Optional.empty();
        try {
            return Optional.of(TlsMaterial.load(tls.certFile(), tls.keyFile(), tls.clientCaFile(), tls.minimum()));
        } catch (TlsException e) {
            problems.add("TLS_CERT_FILE/TLS_KEY_FILE" + (tls.clientCaFile().isPresent() ? "/TLS_CLIENT_CA" : "") + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private static boolean readable(Variable variable, Path file, List<String> problems) {
        if (java.nio.file.Files.isReadable(file) && java.nio.file.Files.isRegularFile(file)) return true;
        problems.add(variable.name() + "='" + file + "' cannot be read (no such file, or not readable by this user)");
        return false;
    }

    private ServerConfig build() {
        ListenAddress listen = read(Variable.LISTEN_ADDR, ListenAddress::parse);
        MllpListener.Limits limits = new MllpListener.Limits(
                (int) integer(Variable.MAX_CONNECTIONS, 0, MAX_CONNECTION_LIMIT),
                duration(Variable.IDLE_TIMEOUT, Duration.ofMillis(1), MAX_TIMEOUT),
                duration(Variable.FRAME_TIMEOUT, Duration.ofMillis(1), MAX_TIMEOUT),
                (int) size(Variable.MAX_FRAME_SIZE, MIN_FRAME_BYTES, MAX_FRAME_BYTES));
        long inflight = inflightBytes(limits.maxFrameBytes());
        Optional<ListenAddress> admin = adminAddress();
        Optional<String> adminToken = read(Variable.ADMIN_TOKEN, ConfigLoader::token);
        int logBufferLines = (int) integer(Variable.LOG_BUFFER_LINES, 1, 1_000_000);
        Duration drain = duration(Variable.DRAIN_TIMEOUT, Duration.ZERO, Duration.ofHours(1));
        MessageReader.Settings reader = new MessageReader.Settings(
                read(Variable.DEFAULT_CHARSET, ConfigLoader::charset),
                read(Variable.CHECK_REQUIRED_SEGMENTS, Values::bool));
        AckWriter.Settings acks = new AckWriter.Settings(
                read(Variable.ACK_SENDING_APPLICATION, ConfigLoader::hd),
                read(Variable.ACK_SENDING_FACILITY, ConfigLoader::hd));
        Intake.Settings intake = new Intake.Settings(
                read(Variable.ERROR_ACK_CODE, ConfigLoader::errorAckCode),
                read(Variable.VALIDATION_ACK_CODE, ConfigLoader::errorAckCode),
                read(Variable.LOG_PAYLOADS, Values::bool));
        Path dataDir = read(Variable.DATA_DIR, ConfigLoader::path);
        Journal.Settings journal = new Journal.Settings(
                dataDir.resolve("journal"),
                size(Variable.JOURNAL_SEGMENT_SIZE, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES),
                duration(Variable.RETENTION, Duration.ofMinutes(1), MAX_RETENTION));
        Duration dedupWindow = duration(Variable.DEDUP_WINDOW, Duration.ZERO, MAX_RETENTION);
        if (dedupWindow.compareTo(journal.retention()) > 0) {
            problems.add("DEDUP_WINDOW (" + dedupWindow + ") must not exceed RETENTION (" + journal.retention()
                    + "): messages older than RETENTION are gone from the journal, so after a restart they could not be recognised");
        }
        long dedupMaxEntries = read(Variable.DEDUP_MAX_ENTRIES, text -> text.isBlank()
                ? org.mllpserver.intake.DuplicateIndex.defaultMaxEntries(maxHeapBytes) : inRange(Values.integer(text), 64, 1L << 40, ""));
        Duration checkpointInterval = duration(Variable.CHECKPOINT_INTERVAL, Duration.ofMillis(100), Duration.ofHours(24));
        Duration auditRetention = duration(Variable.AUDIT_RETENTION, Duration.ofDays(1), MAX_RETENTION);
        LogSettings logging = new LogSettings(read(Variable.LOG_LEVEL, ConfigLoader::level), intake.logPayloads());
        RuleSet.Limits ruleLimits = new RuleSet.Limits(
                integer(Variable.MAX_RULE_COST, 1, MAX_RULE_COST),
                integer(Variable.MAX_RULE_STEPS, 1, MAX_RULE_STEPS),
                duration(Variable.MAX_RULE_TIME, Duration.ofMillis(1), Duration.ofMinutes(1)));
        RetryPolicy retry = retryDefaults();
        Routing routing = new RoutingLoader(problems).load(env, read(Variable.CONFIG_FILE, String::strip), retry);
        Optional<TlsSettings> tls = tls();
        TelemetrySettings telemetry = telemetry();
        return new ServerConfig(dataDir, listen, limits, inflight, admin, adminToken, logBufferLines, drain, reader, acks, intake, journal, dedupWindow,
                dedupMaxEntries, checkpointInterval, auditRetention, routing, ruleLimits, tls, logging, telemetry);
    }

    /** TLS when TLS_CERT_FILE and TLS_KEY_FILE are set (the files are read when the configuration is prepared). */
    private Optional<TlsSettings> tls() {
        String cert = read(Variable.TLS_CERT_FILE, String::strip);
        String key = read(Variable.TLS_KEY_FILE, String::strip);
        String clientCa = read(Variable.TLS_CLIENT_CA, String::strip);
        TlsVersion minimum = read(Variable.TLS_MIN_VERSION, TlsVersion::parse);
        Optional<ListenAddress> address = read(Variable.TLS_LISTEN_ADDR, text -> text.isBlank() ? Optional.<ListenAddress>empty()
                : Optional.of(ListenAddress.parse(text)));
        String allowedText = read(Variable.TLS_ALLOWED_CLIENTS, String::strip);
        boolean watch = read(Variable.TLS_WATCH, Values::bool);
        Duration handshake = duration(Variable.TLS_HANDSHAKE_TIMEOUT, Duration.ofMillis(100), Duration.ofMinutes(5));
        if (cert.isEmpty() && key.isEmpty()) {
            for (Variable v : List.of(Variable.TLS_CLIENT_CA, Variable.TLS_LISTEN_ADDR, Variable.TLS_ALLOWED_CLIENTS)) {
                String value = env.get(v.name());
                boolean reported = problems.stream().anyMatch(p -> p.startsWith(v.name() + "="));
                if (value != null && !value.isBlank() && !reported) {
                    problems.add(v.name() + " is set, but TLS is off: set TLS_CERT_FILE and TLS_KEY_FILE");
                }
            }
            return Optional.empty();
        }
        if (cert.isEmpty() || key.isEmpty()) {
            problems.add((cert.isEmpty() ? "TLS_KEY_FILE is set but TLS_CERT_FILE is not" : "TLS_CERT_FILE is set but TLS_KEY_FILE is not")
                    + ": TLS needs both");
            return Optional.empty();
        }
        Optional<Path> ca = clientCa.isEmpty() ? Optional.empty() : Optional.of(Path.of(clientCa));
        if (!allowedText.isEmpty() && ca.isEmpty()) {
            problems.add("TLS_ALLOWED_CLIENTS needs TLS_CLIENT_CA: without client certificates there is no one to allow");
        }
        java.util.function.Predicate<javax.net.ssl.SSLSession> allowed = null;
        try {
            if (!allowedText.isEmpty() && allowedText.replace(";", "").isBlank()) {
                throw new TlsException("names no client (it would allow every one): list subjects or SANs, or leave it unset");
            }
            allowed = PeerIdentity.allowed(allowedText);
        } catch (TlsException e) {
            problems.add("TLS_ALLOWED_CLIENTS='" + allowedText + "' " + e.getMessage());
        }
        // A bad TLS_ALLOWED_CLIENTS is already a problem (so this never serves); the files are still checked when prepared.
        if (allowed == null) allowed = session -> false;
        try {
            return Optional.of(new TlsSettings(Path.of(cert), Path.of(key), ca, minimum, address, allowed, watch, handshake));
        } catch (InvalidPathException e) {
            problems.add("TLS_CERT_FILE/TLS_KEY_FILE: not a valid path (" + e.getReason() + ")");
            return Optional.empty();
        }
    }

    /**
     * MAX_INFLIGHT_BYTES, or its default: a 16th of the heap, because a frame being handled costs
     * several times its size for a moment (its bytes, their decoded text, the journal record),
     * and connections, the journal's queue and delivery need the rest; but at least two frames of
     * MAX_FRAME_SIZE, so that a largest frame always fits.
     */
    private long inflightBytes(int maxFrameBytes) {
        long derived = Math.max(maxHeapBytes / 16, 2L * maxFrameBytes);
        String raw = env.get(Variable.MAX_INFLIGHT_BYTES.name());
        long bytes = read(Variable.MAX_INFLIGHT_BYTES, text -> text.isBlank() ? derived
                : inRange(Values.size(text), MIN_FRAME_BYTES, MAX_INFLIGHT_BYTES, " bytes"));
        if (bytes < maxFrameBytes && problems.stream().noneMatch(p -> p.startsWith(Variable.MAX_INFLIGHT_BYTES.name()))) {
            problems.add(Variable.MAX_INFLIGHT_BYTES.name() + "='" + raw + "' is smaller than MAX_FRAME_SIZE (" + maxFrameBytes
                    + " bytes): a largest frame could never be held");
        }
        return bytes;
    }

    /**
     * ADMIN_ADDR: unset means the default; unlike other variables, set but empty (or {@code off})
     * turns the admin listener off, as the product promises.
     */
    private Optional<ListenAddress> adminAddress() {
        String raw = env.get(Variable.ADMIN_ADDR.name());
        if (raw != null && (raw.isBlank() || raw.strip().equalsIgnoreCase("off"))) return Optional.empty();
        return Optional.of(read(Variable.ADMIN_ADDR, ListenAddress::parse));
    }

    /** The standard OTEL_* variables (only those for metrics export); every bad one listed. */
    private TelemetrySettings telemetry() {
        try {
            return TelemetrySettings.fromEnvironment(env);
        } catch (TelemetrySettings.Invalid e) {
            problems.addAll(e.problems());
            return TelemetrySettings.defaults();
        }
    }

    private RetryPolicy retryDefaults() {
        Duration initial = duration(Variable.RETRY_INITIAL, Duration.ofMillis(1), Duration.ofHours(1));
        Duration maxDelay = duration(Variable.RETRY_MAX_DELAY, Duration.ofMillis(1), Duration.ofDays(1));
        int attempts = (int) integer(Variable.RETRY_MAX_ATTEMPTS, 1, 1_000_000);
        if (maxDelay.compareTo(initial) < 0) {
            problems.add("RETRY_MAX_DELAY=" + maxDelay + " must not be shorter than RETRY_INITIAL=" + initial);
            return RetryPolicy.DEFAULT;
        }
        return new RetryPolicy(initial, maxDelay, attempts);
    }

    /** Parses the variable; on failure records the problem and carries on with the default. */
    private <T> T read(Variable variable, Function<String, T> parser) {
        String raw = env.get(variable.name());
        if (raw == null || raw.isBlank()) return parser.apply(variable.defaultValue());
        try {
            return parser.apply(raw);
        } catch (RuntimeException e) { // the parsers throw IllegalArgumentException; anything else is reported the same way
            problems.add(variable.name() + (variable == Variable.ADMIN_TOKEN ? "=<not shown> " : "='" + raw + "' ") + e.getMessage());
            return parser.apply(variable.defaultValue());
        }
    }

    private Duration duration(Variable variable, Duration min, Duration max) {
        return read(variable, text -> {
            Duration d = Values.duration(text);
            if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw new IllegalArgumentException("is out of range (" + min + " to " + max + ")");
            }
            return d;
        });
    }

    private long size(Variable variable, long min, long max) {
        return read(variable, text -> inRange(Values.size(text), min, max, " bytes"));
    }

    private long integer(Variable variable, long min, long max) {
        return read(variable, text -> inRange(Values.integer(text), min, max, ""));
    }

    private static long inRange(long value, long min, long max, String unit) {
        if (value < min || value > max) throw new IllegalArgumentException("is out of range (" + min + " to " + max + unit + ")");
        return value;
    }

    private static Charset charset(String name) {
        return switch (Charsets.lookup(name)) {
            case Charsets.Known known -> known.charset();
            case Charsets.NotMllpSafe unsafe -> throw new IllegalArgumentException("cannot be carried over MLLP (UTF-16/UTF-32)");
            case Charsets.Unknown unknown -> throw new IllegalArgumentException("is not a known charset (HL7 table 0211 name or Java name)");
        };
    }

    /** A bearer token: printable ASCII without spaces, at least 16 characters (a short one is guessed). */
    private static Optional<String> token(String text) {
        String token = text.strip();
        if (token.isEmpty()) return Optional.empty();
        if (token.length() < 16) throw new IllegalArgumentException("is shorter than 16 characters: too easy to guess");
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c <= 0x20 || c >= 0x7F) throw new IllegalArgumentException("must be printable ASCII without spaces");
        }
        return Optional.of(token);
    }

    private static Path path(String text) {
        try {
            return Path.of(text.strip()).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("is not a valid path (" + e.getReason() + ")");
        }
    }

    /** AE or AR (used for both ERROR_ACK_CODE and VALIDATION_ACK_CODE). */
    private static AckCode errorAckCode(String text) {
        return switch (text.strip().toUpperCase(Locale.ROOT)) {
            case "AE" -> AckCode.AE;
            case "AR" -> AckCode.AR;
            default -> throw new IllegalArgumentException("must be AE or AR");
        };
    }

    /** An HD value written with ^ and &; our writer escapes the rest. */
    private static String hd(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < 0x20) throw new IllegalArgumentException("must not contain control characters");
        }
        return text.strip();
    }

    private static System.Logger.Level level(String text) {
        return switch (text.strip().toUpperCase(Locale.ROOT)) {
            case "ERROR" -> System.Logger.Level.ERROR;
            case "WARNING", "WARN" -> System.Logger.Level.WARNING;
            case "INFO" -> System.Logger.Level.INFO;
            case "DEBUG" -> System.Logger.Level.DEBUG;
            case "TRACE" -> System.Logger.Level.TRACE;
            default -> throw new IllegalArgumentException("must be ERROR, WARNING, INFO, DEBUG or TRACE");
        };
    }
}
