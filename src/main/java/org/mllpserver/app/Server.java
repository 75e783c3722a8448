package org.mllpserver.app;

import org.mllpserver.admin.AdminServer;
import org.mllpserver.admin.LogBuffer;
import org.mllpserver.audit.AuditJson;
import org.mllpserver.audit.AuditKind;
import org.mllpserver.audit.AuditLog;
import org.mllpserver.audit.AuditReader;
import org.mllpserver.config.ConfigurationHash;
import org.mllpserver.config.Prepared;
import org.mllpserver.config.Routing;
import org.mllpserver.config.ServerConfig;
import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.delivery.DeadLetterQueue;
import org.mllpserver.delivery.DeliveryService;
import org.mllpserver.events.Events;
import org.mllpserver.hl7.AckWriter;
import org.mllpserver.hl7.ControlIds;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.intake.DuplicateIndex;
import org.mllpserver.intake.Intake;
import org.mllpserver.intake.IntakeStats;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.JournalCheckpoint;
import org.mllpserver.journal.RecordIds;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RecordVisitor;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.ConnectionCeiling;
import org.mllpserver.mllp.FrameBudget;
import org.mllpserver.mllp.ListenerStats;
import org.mllpserver.mllp.ListenAddress;
import org.mllpserver.mllp.MllpListener;
import org.mllpserver.mllp.SocketUpgrade;
import org.mllpserver.rules.RuleSet;
import org.mllpserver.telemetry.Gauges;
import org.mllpserver.telemetry.Telemetry;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;

/**
 * The composition root: builds every part from the configuration, starts them in dependency
 * order (journal with recovery and the duplicate index, reader, intake, then the listener that
 * feeds them) and stops them in reverse (drain the listener, then close the journal).
 */
public final class Server {

    private static final System.Logger LOG = System.getLogger(Server.class.getName());
    /** Pending connections the kernel may queue while the accept thread is busy. */
    private static final int ACCEPT_BACKLOG = 128;
    /**
     * The kernel's receive buffer per MLLP connection. Linux would grow it up to tcp_rmem's maximum
     * (32 MiB here) for a sender that streams a big frame, so a back-pressured connection could park
     * megabytes in the kernel; a message and its answer take a few KiB, and 256 KiB still moves a
     * 4 MiB frame over loopback in milliseconds.
     */
    private static final int RECEIVE_BUFFER_BYTES = 256 * 1024;
    /** Parsed once at start so the first real message does not pay for HAPI's class loading. */
    private static final byte[] WARM_UP_MESSAGE = ("MSH|^~\\&|WARMUP|WARMUP|MLLP|SERVER|20260101000000||ADT^A01^ADT_A01|WARMUP|P|2.5\r"
            + "EVN|A01|20260101000000\rPID|1||1^^^WARMUP||WARMUP^WARMUP\rPV1|1|N\r").getBytes(StandardCharsets.US_ASCII);

    /** How often TLS_WATCH looks at the TLS files. */
    private static final Duration TLS_WATCH_PERIOD = Duration.ofSeconds(10);
    /** Dispatchers get what is left of DRAIN_TIMEOUT to stop, but at least this. */
    private static final Duration DISPATCHER_STOP_MIN = Duration.ofSeconds(1);
    /** How often expired journal segments are looked for. */
    private static final Duration HOUSEKEEPING_PERIOD = Duration.ofMinutes(1);
    /** How often expired audit segments are looked for: retention is counted in years. */
    private static final Duration AUDIT_HOUSEKEEPING_PERIOD = Duration.ofHours(1);

    private final ServerConfig config;
    /** The listener on LISTEN_ADDR (plain, or TLS when TLS has no address of its own), then the TLS one beside it. */
    private final List<MllpListener> listeners;
    private final java.util.Optional<TlsAcceptor> tls;
    private final Journal journal;
    private final DuplicateIndex duplicates;
    private final ScheduledExecutorService housekeeping;
    private final IntakeStats intakeStats;
    private final DeliveryService delivery;
    private final DeadLetterQueue deadLetters;
    private final java.util.Optional<ControlServer> control;
    private final Liveness liveness;
    private final java.util.Optional<AdminServer> admin;
    private final Checkpoints checkpoints;
    /** Why the server is not ready (starting, stopping), or null once it is: what /readyz reports first. */
    private final AtomicReference<String> notReady;
    private final LogBuffer logs;
    private final Telemetry telemetry;
    private final AuditLog audit;

    private Server(ServerConfig config, List<MllpListener> listeners, java.util.Optional<TlsAcceptor> tls, Journal journal,
                   DuplicateIndex duplicates,
                   ScheduledExecutorService housekeeping, IntakeStats intakeStats, DeliveryService delivery,
                   DeadLetterQueue deadLetters, java.util.Optional<ControlServer> control, Liveness liveness,
                   java.util.Optional<AdminServer> admin, Checkpoints checkpoints, AtomicReference<String> notReady, LogBuffer logs,
                   Telemetry telemetry, AuditLog audit) {
        this.config = config;
        this.listeners = listeners;
        this.tls = tls;
        this.journal = journal;
        this.duplicates = duplicates;
        this.housekeeping = housekeeping;
        this.intakeStats = intakeStats;
        this.delivery = delivery;
        this.deadLetters = deadLetters;
        this.control = control;
        this.liveness = liveness;
        this.admin = admin;
        this.checkpoints = checkpoints;
        this.notReady = notReady;
        this.logs = logs;
        this.telemetry = telemetry;
        this.audit = audit;
    }

    /** Builds and starts the server; returns once the listener accepts connections. */
    public static Server start(Prepared prepared, Clock clock) throws IOException {
        return start(prepared, clock, ChannelFactory.DEFAULT);
    }

    /**
     * As {@link #start(ServerConfig, Clock)}, with the journal's files opened by {@code channels}
     * (tests inject faults). One straight path: each part is started after what it needs and
     * registered to be undone, so a failure anywhere undoes what had started, in reverse.
     */
    public static Server start(Prepared prepared, Clock clock, ChannelFactory channels) throws IOException {
        Undo undo = new Undo();
        try {
            Server server = build(prepared, clock, channels, undo);
            undo.forget();
            return server;
        } catch (IOException | RuntimeException e) {
            undo.run();
            throw e;
        }
    }

    private static Server build(Prepared prepared, Clock clock, ChannelFactory channels, Undo undo) throws IOException {
        long started = System.nanoTime();
        ServerConfig config = prepared.config();
        LogBuffer logs = attachLogBuffer(config.logBufferLines());
        undo.add("the log buffer", () -> detachLogBuffer(logs));
        Path dataDir = config.dataDir();
        DuplicateIndex duplicates = new DuplicateIndex(config.dedupWindow(), clock, config.dedupMaxEntries());
        DeadLetterIndex deadLetterIndex = new DeadLetterIndex();
        Checkpoints checkpoints = new Checkpoints(dataDir, duplicates, deadLetterIndex);
        LateGauges gauges = new LateGauges(config.routing().connectors().stream().map(Routing.Connector::name).toList());
        Telemetry telemetry = new Telemetry(config.telemetry(), config.routing().rules().stream().map(RuleSet.Named::name).toList(), gauges, clock);
        undo.add("metrics", telemetry::close);
        AuditLog audit = AuditLog.open(new AuditLog.Settings(dataDir.resolve("audit"), AuditLog.Settings.DEFAULT_SEGMENT_BYTES,
                config.auditRetention()), clock, ChannelFactory.DEFAULT);
        undo.add("the audit trail", audit::close);
        Events events = Events.both(telemetry, audit); // the metrics and the audit trail hear of everything that happens
        Journal journal = openJournal(config, clock, channels, checkpoints, duplicates, deadLetterIndex, events);
        undo.add("the journal", journal::close);
        // Before any frame is accepted: what a crash took from the audit after the journal had it.
        int rebuilt = audit.recoverFromJournal(config.journal().directory(), config.maxInflightBytes(), journal.end());
        if (rebuilt > 0) LOG.log(INFO, "audit: {0} record(s) rebuilt from the journal (received before a crash, not audited then)",
                String.valueOf(rebuilt));

        MessageReader reader = new MessageReader(config.reader());
        if (!(reader.read(WARM_UP_MESSAGE) instanceof MessageReader.Parsed warmUp)) {
            throw new IllegalStateException("the built-in warm-up message did not parse");
        }
        // The rules were compiled with the configuration; one evaluation here takes the CEL
        // runtime's first-use costs off the first real message's path.
        RuleSet rules = prepared.rules();
        rules.evaluate(warmUp.message());
        logRouting(config.routing());
        AckWriter acks = new AckWriter(config.acks(), new ControlIds(new SecureRandom()), clock);
        IntakeStats intakeStats = new IntakeStats();
        // Record ids need uniqueness, not secrecy: a per-thread generator instead of a SecureRandom read (and lock) per record.
        java.util.random.RandomGenerator idBits = () -> java.util.concurrent.ThreadLocalRandom.current().nextLong();
        RecordIds ids = new RecordIds(clock, idBits);
        Intake intake = new Intake(reader, acks, journal, duplicates, rules, ids, clock, config.intake(), intakeStats, events);

        List<Routing.Connector> connectors = config.routing().connectors();
        DeadLetterQueue deadLetters = new DeadLetterQueue(journal, deadLetterIndex, ids, clock,
                connectors.stream().map(Routing.Connector::name).collect(java.util.stream.Collectors.toSet()));
        undo.add("the dead letter queue", deadLetters::close);
        // Before the listener opens: a new connector's cursor is saved first.
        DeliveryService delivery = DeliveryService.start(
                connectors.stream().map(c -> new DeliveryService.Route(c.name(), c.settings(), c.retry())).toList(),
                Connectors::create, journal, dataDir.resolve("cursors"), deadLetters, clock, events);
        undo.add("delivery", () -> delivery.stop(Duration.ofSeconds(10))); // dispatchers must not outlive a failed start
        java.util.Optional<ControlServer> control = ControlServer.start(dataDir, new ControlCommands(java.util.Map.of(
                "dlq", new DeadLetterCommands(deadLetters, delivery, events, clock),
                "logs", new LogCommands(logs))));
        control.ifPresent(c -> undo.add("the control socket", c::close));

        java.util.Optional<TlsAcceptor> tls = config.tls().map(t -> new TlsAcceptor(t, prepared.tlsMaterial().orElseThrow(), events, clock));
        MllpListener.Shared shared = shared(config, events);
        List<MllpListener> listeners = listeners(config, intake, tls, shared, undo);
        Liveness liveness = new Liveness(listeners, journal, delivery, audit);
        AtomicReference<String> notReady = new AtomicReference<>("starting");
        gauges.bind(journal, delivery, deadLetterIndex, tls);
        AdminBackend backend = new AdminBackend(new AdminBackend.Parts(listeners, journal, delivery, deadLetters, shared.frames(), tls,
                liveness, logs), () -> readiness(notReady, liveness), telemetry::prometheusText, query -> searchAudit(audit, query),
                () -> auditStatus(audit), events, clock);
        java.util.Optional<AdminServer> admin = admin(config, backend, clock);
        admin.ifPresent(a -> undo.add("the admin listener", a::close));

        ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("housekeeping").daemon(true).factory());
        undo.add("housekeeping", housekeeping::shutdownNow);
        housekeeping.scheduleWithFixedDelay(supervised("deleting expired journal segments",
                        () -> deleteExpired(journal, Math.min(delivery.lowestCursor(), deadLetters.oldestPosition()))),
                0, HOUSEKEEPING_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(supervised("writing a checkpoint", () -> writeCheckpointIfDue(checkpoints, journal)),
                config.checkpointInterval().toMillis(), config.checkpointInterval().toMillis(), TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(supervised("deleting expired audit segments", () -> deleteExpired(audit)),
                AUDIT_HOUSEKEEPING_PERIOD.toMillis(), AUDIT_HOUSEKEEPING_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        if (tls.isPresent() && config.tls().get().watch()) {
            housekeeping.scheduleWithFixedDelay(supervised("TLS_WATCH", tls.get()::reloadIfChanged), TLS_WATCH_PERIOD.toMillis(),
                    TLS_WATCH_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        }
        events.configurationLoaded(new Events.ConfigurationLoaded(clock.instant(), ConfigurationHash.of(config), "start"));
        listeners.forEach(MllpListener::start);
        notReady.set(null);
        LOG.log(INFO, "ready in {0} ms (journal read {1})", String.valueOf((System.nanoTime() - started) / 1_000_000),
                journal.openedFromCheckpoint() ? "from its checkpoint on" : "whole");
        return new Server(config, listeners, tls, journal, duplicates, housekeeping, intakeStats, delivery, deadLetters, control,
                liveness, admin, checkpoints, notReady, logs, telemetry, audit);
    }

    /**
     * Opens the journal from the checkpoint when there is one that fits (the indexes loaded from
     * it, only the records after it read), otherwise reading it whole into empty indexes.
     */
    private static Journal openJournal(ServerConfig config, Clock clock, ChannelFactory channels, Checkpoints checkpoints,
                                       DuplicateIndex duplicates, DeadLetterIndex deadLetters, Events events) throws IOException {
        java.util.Optional<JournalCheckpoint> from = checkpoints.load(config.journal().directory());
        AtomicLong read = new AtomicLong();
        RecordVisitor remember = rememberAccepted(duplicates);
        RecordVisitor deadLetterVisitor = deadLetters.visitor();
        RecordVisitor visitor = (position, type, body) -> {
            read.incrementAndGet();
            remember.visit(position, type, body);
            deadLetterVisitor.visit(position, type, body);
        };
        Journal journal = Journal.open(config.journal(), clock, channels, visitor, from, events);
        if (from.isPresent() && !journal.openedFromCheckpoint()) {
            // The files changed between the check and the opening: start over, reading everything.
            journal.close();
            duplicates.clear();
            deadLetters.clear();
            read.set(0);
            journal = Journal.open(config.journal(), clock, channels, visitor, java.util.Optional.empty(), events);
        }
        LOG.log(INFO, "journal: {0} record(s) read at start{1}", String.valueOf(read.get()),
                journal.openedFromCheckpoint() ? " (after the checkpoint)" : "");
        return journal;
    }

    private static void writeCheckpointIfDue(Checkpoints checkpoints, Journal journal) {
        try {
            checkpoints.writeIfDue(journal);
        } catch (IOException e) {
            LOG.log(ERROR, "writing a checkpoint failed ({0}); the previous one stays (start-up reads more of the journal)", e.toString());
        }
    }

    private static void writeCheckpoint(Checkpoints checkpoints, Journal journal) {
        try {
            checkpoints.write(journal);
        } catch (IOException e) {
            LOG.log(ERROR, "writing a checkpoint failed ({0}); the previous one stays (start-up reads more of the journal)", e.toString());
        }
    }

    /** The listener on LISTEN_ADDR (plain, or TLS when TLS has no address of its own), then the TLS one beside it. */
    /** What every listener shares: connection ids, the frame budget, the connection ceiling, the listeners of events. */
    private static MllpListener.Shared shared(ServerConfig config, Events events) {
        AtomicLong connectionIds = new AtomicLong();
        MllpListener.Shared shared = new MllpListener.Shared(connectionIds::incrementAndGet, System::nanoTime,
                new FrameBudget(config.maxInflightBytes(), System::nanoTime), ceiling(Runtime.getRuntime().maxMemory(), maxFileDescriptors()),
                events);
        logMemoryBounds(shared);
        return shared;
    }

    private static List<MllpListener> listeners(ServerConfig config, Intake intake, java.util.Optional<TlsAcceptor> tls,
                                                MllpListener.Shared shared, Undo undo) throws IOException {
        boolean tlsOnly = tls.isPresent() && config.tls().get().listenAddress().isEmpty();
        List<MllpListener> listeners = new ArrayList<>();
        listeners.add(listener(tlsOnly ? "tls" : "plain", "LISTEN_ADDR", config.listenAddress(), config, intake, shared,
                tlsOnly ? tls.get() : SocketUpgrade.PLAIN));
        undo.add("a listener", () -> listeners.getFirst().drain(Duration.ZERO));
        if (tls.isPresent() && !tlsOnly) {
            MllpListener second = listener("tls", "TLS_LISTEN_ADDR", config.tls().get().listenAddress().get(), config, intake, shared,
                    tls.get());
            listeners.add(second);
            undo.add("a listener", () -> second.drain(Duration.ZERO));
        }
        return listeners;
    }

    /** What a failed start must undo, newest first; each step's failure is logged and the rest still run. */
    private static final class Undo {
        @FunctionalInterface
        interface Step {
            void run() throws Exception;
        }

        private final java.util.ArrayDeque<Map.Entry<String, Step>> steps = new java.util.ArrayDeque<>();

        void add(String what, Step step) {
            steps.push(Map.entry(what, step));
        }

        void forget() {
            steps.clear();
        }

        void run() {
            while (!steps.isEmpty()) {
                Map.Entry<String, Step> step = steps.pop();
                try {
                    step.getValue().run();
                } catch (Exception e) {
                    LOG.log(ERROR, "undoing a failed start: closing " + step.getKey() + " failed: " + e);
                }
            }
        }
    }

    /** Ready: started, not stopping, and live. */
    private static java.util.Optional<String> readiness(AtomicReference<String> notReady, Liveness liveness) {
        String why = notReady.get();
        if (why != null) return java.util.Optional.of(why);
        List<String> problems = liveness.problems();
        if (!problems.isEmpty()) return java.util.Optional.of(String.join("; ", problems));
        return liveness.degraded();
    }

    private static java.util.Optional<AdminServer> admin(ServerConfig config, AdminServer.Backend backend, Clock clock) throws IOException {
        if (config.adminAddress().isEmpty()) return java.util.Optional.empty();
        ListenAddress address = config.adminAddress().get();
        try {
            return java.util.Optional.of(AdminServer.start(address.toSocketAddress(), config.adminToken(), backend, clock));
        } catch (IOException e) {
            throw new IOException("cannot listen on ADMIN_ADDR=" + address + ": " + e.getMessage(), e);
        }
    }

    /**
     * A periodic task that survives anything it meets: a scheduled executor silently stops running
     * a task after it throws once, so every failure, an {@link Error} too, is logged here instead.
     */
    private static Runnable supervised(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable e) {
                try {
                    LOG.log(ERROR, what + " failed (" + e + "); it runs again at its next period");
                } catch (Throwable outOfMemory) {
                    // the next period matters more than the line
                }
            }
        };
    }

    /**
     * The process's connection ceiling: a quarter of the heap at {@link MllpListener#PLAIN_CONNECTION_BYTES}
     * a connection (frames have their own budget, a 16th), and the file descriptors the process may
     * open less a tenth (at least 64) kept for the journal, cursors, the control socket and delivery.
     */
    static ConnectionCeiling ceiling(long maxHeapBytes, long maxFileDescriptors) {
        long reserve = Math.max(64, maxFileDescriptors / 10);
        int byDescriptors = (int) Math.clamp(maxFileDescriptors - reserve, 1, Integer.MAX_VALUE);
        return new ConnectionCeiling(Math.max(maxHeapBytes / 4, MllpListener.TLS_CONNECTION_BYTES), byDescriptors, System::nanoTime);
    }

    /** The process's limit on open files (RLIMIT_NOFILE); a conservative 1024 where the JDK cannot tell. */
    private static long maxFileDescriptors() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount() : 1024;
    }

    private static void logMemoryBounds(MllpListener.Shared shared) {
        ConnectionCeiling c = shared.ceiling();
        LOG.log(INFO, "memory bounds: frames in flight {0} bytes (MAX_INFLIGHT_BYTES); at most {1} connections at once"
                        + " (file descriptors), and {2} bytes of heap for them ({3} connections at {4} bytes each, fewer with TLS)",
                String.valueOf(shared.frames().capacity()), String.valueOf(c.maxConnections()), String.valueOf(c.maxBytes()),
                String.valueOf(c.maxBytes() / MllpListener.PLAIN_CONNECTION_BYTES), String.valueOf(MllpListener.PLAIN_CONNECTION_BYTES));
    }

    private static MllpListener listener(String name, String variable, ListenAddress address, ServerConfig config, Intake intake,
                                         MllpListener.Shared shared, SocketUpgrade upgrade) throws IOException {
        ServerSocket socket = new ServerSocket();
        try {
            socket.setReuseAddress(true);
            socket.setReceiveBufferSize(RECEIVE_BUFFER_BYTES); // before bind: accepted sockets inherit it
            socket.bind(address.toSocketAddress(), ACCEPT_BACKLOG);
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot listen on " + variable + "=" + address + ": " + e.getMessage(), e);
        }
        return new MllpListener(name, socket, config.limits(), intake, new ListenerStats(), shared, upgrade);
    }

    private static void logRouting(Routing routing) {
        LOG.log(INFO, "{0} validation rule(s), {1} connector(s){2}", String.valueOf(routing.rules().size()),
                String.valueOf(routing.connectors().size()), routing.connectors().isEmpty() ? "" : ": " + String.join(", ",
                        routing.connectors().stream().map(c -> c.name() + " (" + c.type().name().toLowerCase(java.util.Locale.ROOT)
                                + (c.filter().isEmpty() ? ", every message" : "") + ")").toList())
                        + "; records are addressed to them (delivery is not implemented yet)");
    }

    /** Feeds the duplicate index from the messages found in the journal at start. */
    private static RecordVisitor rememberAccepted(DuplicateIndex duplicates) {
        if (!duplicates.enabled()) return RecordVisitor.NONE;
        return (position, type, body) -> {
            if (type != RecordType.MESSAGE) return;
            StoredMessage message = StoredMessage.decode(body);
            DuplicateIndex.Key.of(message.sendingApplication(), message.sendingFacility(), message.controlId())
                    .ifPresent(key -> duplicates.remember(key, message.receivedAt()));
        };
    }

    /** /api/audit: the newest matching records first. */
    private static List<Map<String, Object>> searchAudit(AuditLog audit, AdminServer.AuditQuery query) throws IOException {
        java.util.Optional<AuditKind> kind = query.event().map(name -> AuditKind.ofName(name).orElseThrow(() ->
                new IllegalArgumentException("event '" + name + "' is not one of: " + AuditKind.names())));
        return AuditReader.search(audit.directory(), new AuditReader.Query(query.since(), query.until(), query.controlId(), kind,
                Math.min(query.limit(), AuditReader.MAX_LIMIT), true)).stream().map(AuditJson::fields).toList();
    }

    /** The audit part of /api/status: the head to anchor elsewhere, and how the writer fares. */
    private static Map<String, Object> auditStatus(AuditLog audit) {
        AuditLog.Head head = audit.head();
        AuditLog.Stats stats = audit.stats();
        Map<String, Object> status = new java.util.LinkedHashMap<>();
        status.put("directory", audit.directory().toString());
        status.put("head_seq", head.seq());
        status.put("head_sha256", head.hash().hex());
        status.put("written", stats.written());
        status.put("queued", stats.queued());
        status.put("not_recorded", stats.notRecorded());
        status.put("problem", audit.writerProblem(Liveness.FLUSHER_STUCK_AFTER).orElse(null));
        return status;
    }

    private static void deleteExpired(AuditLog audit) {
        try {
            int deleted = audit.deleteExpired();
            if (deleted > 0) LOG.log(INFO, "audit: {0} segment(s) older than AUDIT_RETENTION deleted", String.valueOf(deleted));
        } catch (IOException e) {
            LOG.log(ERROR, "audit: deleting expired segments failed; trying again in an hour: " + e);
        }
    }

    /** Deletes expired segments that every cursor has passed and that hold no open dead letter. */
    private static void deleteExpired(Journal journal, long keepFrom) {
        try {
            journal.deleteExpired(keepFrom);
        } catch (IOException | RuntimeException e) {
            LOG.log(ERROR, "journal: deleting expired segments failed; trying again in " + HOUSEKEEPING_PERIOD.toMinutes() + " min: " + e);
        }
    }

    /** The port of the listener on LISTEN_ADDR (useful with port 0). */
    public int port() {
        return listeners.getFirst().port();
    }

    /** The port TLS listens on (LISTEN_ADDR's when TLS is the only listener). */
    public int tlsPort() {
        if (tls.isEmpty()) throw new IllegalStateException("TLS is off");
        return listeners.getLast().port();
    }

    public ListenerStats listenerStats() {
        return listeners.getFirst().stats();
    }

    /** The TLS listener's counters (the same as {@link #listenerStats()} when TLS is the only listener). */
    public ListenerStats tlsListenerStats() {
        return listeners.getLast().stats();
    }

    /** Loads the TLS files again (SIGHUP): new connections get them, open ones keep theirs; false (logged) when that failed. */
    public boolean reloadTls(String why) {
        if (tls.isEmpty()) LOG.log(INFO, "{0}: TLS is off, nothing to reload", why);
        return tls.map(t -> t.reload(why)).orElse(false);
    }

    public IntakeStats intakeStats() {
        return intakeStats;
    }

    public Journal journal() {
        return journal;
    }

    public DuplicateIndex duplicates() {
        return duplicates;
    }

    public DeliveryService delivery() {
        return delivery;
    }

    public DeadLetterQueue deadLetters() {
        return deadLetters;
    }

    /** What is wrong now (empty while it serves): what /healthz reports. */
    public List<String> livenessProblems() {
        return liveness.problems();
    }

    /** A loop that serves others has ended: the process should exit so that a supervisor restarts it. */
    public List<String> fatalProblems() {
        return liveness.fatal();
    }

    /** Writes a checkpoint now (as CHECKPOINT_INTERVAL would); false when the journal has not grown since the last. */
    public boolean checkpointNow() throws IOException {
        return checkpoints.write(journal);
    }

    /** The admin listener's port (useful with port 0). */
    public int adminPort() {
        return admin.orElseThrow(() -> new IllegalStateException("ADMIN_ADDR is off")).port();
    }

    /** Drains every listener at once, so the whole drain stays within the timeout. */
    private int drainAll(Duration timeout) throws InterruptedException {
        java.util.concurrent.atomic.AtomicInteger forced = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> drains = new ArrayList<>();
        for (MllpListener l : listeners) {
            drains.add(Thread.ofVirtual().name("drain").start(() -> {
                try {
                    forced.addAndGet(l.drain(timeout));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread t : drains) t.join();
        return forced.get();
    }

    /** Stops accepting and drains: frames in flight are answered within DRAIN_TIMEOUT. */
    public void stop() throws InterruptedException {
        notReady.set("stopping: draining the listeners"); // first: a load balancer stops sending before the listeners close
        Duration timeout = config.drainTimeout();
        LOG.log(INFO, "shutting down: {0} connection(s) open, DRAIN_TIMEOUT={1} ms",
                String.valueOf(listeners.stream().mapToLong(l -> l.stats().open()).sum()), String.valueOf(timeout.toMillis()));
        long deadline = System.nanoTime() + timeout.toNanos();
        int forced = drainAll(timeout);
        housekeeping.shutdownNow();
        control.ifPresent(ControlServer::close);
        admin.ifPresent(AdminServer::close);
        // Each dispatcher saves its cursor; one stuck in a delivery resumes from its last saved one.
        delivery.stop(Duration.ofNanos(Math.max(DISPATCHER_STOP_MIN.toNanos(), deadline - System.nanoTime())));
        writeCheckpoint(checkpoints, journal); // the next start reads nothing before this point
        try {
            deadLetters.close();
        } catch (IOException e) {
            LOG.log(ERROR, "closing the dead letter reader failed: " + e);
        }
        boolean journalClosed = false;
        try {
            journal.close();
            journalClosed = true;
        } catch (IOException e) {
            LOG.log(ERROR, "closing the journal failed (every acknowledged message had been forced already): " + e);
        }
        try {
            // After everything that reports to it, and the journal: seals the chain and logs its head. The
            // journal's end goes into the seal (the next start then reads none of it) only when every
            // connection ended by itself: one closed at the end of the drain may have stored a frame it
            // never reported.
            if (journalClosed && forced == 0) audit.close(journal.end());
            else audit.close();
        } catch (IOException e) {
            LOG.log(ERROR, "closing the audit trail failed: " + e);
        }
        telemetry.close(); // after everything durable: one last export, bounded
        LOG.log(INFO, "stopped ({0} connection(s) had to be closed at the end of the drain)", String.valueOf(forced));
        detachLogBuffer(logs);
    }

    /** The recent log lines for /api/logs and ./run.sh logs: a handler on the root logger beside the console's. */
    private static LogBuffer attachLogBuffer(int lines) {
        LogBuffer buffer = new LogBuffer(lines, new Logging.OneLine());
        java.util.logging.LogManager.getLogManager().getLogger("").addHandler(buffer);
        return buffer;
    }

    private static void detachLogBuffer(LogBuffer buffer) {
        java.util.logging.LogManager.getLogManager().getLogger("").removeHandler(buffer);
    }

    /** The audit trail. */
    public AuditLog audit() {
        return audit;
    }

    /** The recent log lines. */
    public LogBuffer logs() {
        return logs;
    }

    /** The metrics (what /metrics serves). */
    public Telemetry telemetry() {
        return telemetry;
    }

    /**
     * The metrics' gauges, read from parts made after the metrics themselves (which listen to
     * events from the start): zero until {@link #bind} runs, just after those parts exist.
     */
    private static final class LateGauges implements Gauges {
        private final List<String> connectors;
        private volatile Journal journal;
        private volatile DeliveryService delivery;
        private volatile DeadLetterIndex deadLetters;
        private volatile java.util.Optional<TlsAcceptor> tls = java.util.Optional.empty();

        LateGauges(List<String> connectors) {
            this.connectors = List.copyOf(connectors);
        }

        void bind(Journal journal, DeliveryService delivery, DeadLetterIndex deadLetters, java.util.Optional<TlsAcceptor> tls) {
            this.deadLetters = deadLetters;
            this.delivery = delivery;
            this.tls = tls;
            this.journal = journal;
        }

        @Override
        public long journalBytes() {
            Journal j = journal;
            return j == null ? 0 : j.end() - j.begin();
        }

        @Override
        public List<String> connectors() {
            return connectors;
        }

        @Override
        public long backlog(String connector) {
            DeliveryService d = delivery;
            return d == null ? 0 : d.backlogRecords(connector);
        }

        @Override
        public Duration lag(String connector) {
            DeliveryService d = delivery;
            return d == null ? Duration.ZERO : d.lag(connector, java.time.Instant.now());
        }

        @Override
        public long openDeadLetters(String connector) {
            DeadLetterIndex index = deadLetters;
            return index == null ? 0 : index.openFor(connector);
        }

        @Override
        public java.util.Optional<java.time.Instant> certificateNotAfter() {
            return tls.map(t -> t.material().chain().getFirst().getNotAfter().toInstant());
        }
    }
}
