package org.mllpserver.app;

import org.mllpserver.admin.AdminServer;
import org.mllpserver.admin.LogBuffer;
import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.delivery.DeadLetterQueue;
import org.mllpserver.delivery.DeliveryService;
import org.mllpserver.delivery.DispatcherStats;
import org.mllpserver.events.Events;
import org.mllpserver.journal.Journal;
import org.mllpserver.mllp.FrameBudget;
import org.mllpserver.mllp.ListenerStats;
import org.mllpserver.mllp.MllpListener;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * What the admin listener serves, read from the running server's parts: liveness, readiness,
 * metrics, the status document, logs, the audit trail, the dead letters. Read-only except the
 * dead letter operations, which are the same as {@code ./run.sh dlq}.
 */
final class AdminBackend implements AdminServer.Backend {

    /** The parts a status document is made of. */
    record Parts(List<MllpListener> listeners, Journal journal, DeliveryService delivery, DeadLetterQueue deadLetters,
                 FrameBudget frames, Optional<TlsAcceptor> tls, Liveness liveness, LogBuffer logs) {}

    /** How the audit trail answers a search (none until the audit trail is on). */
    @FunctionalInterface
    interface AuditSearch {
        List<Map<String, Object>> search(AdminServer.AuditQuery query) throws IOException;
    }

    private final Parts parts;
    private final Supplier<Optional<String>> readiness;
    private final Supplier<String> metrics;
    private final AuditSearch audit;
    private final Supplier<Map<String, Object>> auditHead;
    private final Events events;
    private final Clock clock;
    private final Instant started;

    AdminBackend(Parts parts, Supplier<Optional<String>> readiness, Supplier<String> metrics, AuditSearch audit,
                 Supplier<Map<String, Object>> auditHead, Events events, Clock clock) {
        this.parts = parts;
        this.readiness = readiness;
        this.metrics = metrics;
        this.audit = audit;
        this.auditHead = auditHead;
        this.events = events;
        this.clock = clock;
        this.started = clock.instant();
    }

    @Override
    public List<String> livenessProblems() {
        return parts.liveness().problems();
    }

    @Override
    public Optional<String> notReady() {
        return readiness.get();
    }

    @Override
    public String metrics() {
        return metrics.get();
    }

    @Override
    public LogBuffer logs() {
        return parts.logs();
    }

    @Override
    public List<Map<String, Object>> audit(AdminServer.AuditQuery query) throws IOException {
        return audit.search(query);
    }

    @Override
    public DeadLetterQueue deadLetters() {
        return parts.deadLetters();
    }

    @Override
    public void operatorAction(String who, String action, Optional<UUID> deadLetter, Optional<UUID> record, String detail) {
        events.operatorAction(new Events.OperatorAction(clock.instant(), who, action, deadLetter, record, detail));
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("version", Version.current());
        status.put("started", started);
        status.put("uptime_seconds", Duration.between(started, clock.instant()).toSeconds());
        status.put("ready", readiness.get().isEmpty());
        status.put("problems", parts.liveness().problems());
        status.put("listeners", listeners());
        status.put("journal", journal());
        status.put("frame_memory", Map.of("used_bytes", parts.frames().used(), "capacity_bytes", parts.frames().capacity(),
                "waiting", parts.frames().waiting(), "gave_way", parts.frames().gaveWay()));
        status.put("connectors", connectors());
        status.put("dead_letters_open", parts.deadLetters().size());
        status.put("tls", parts.tls().map(t -> (Object) Map.of("certificate_not_after", notAfter(t))).orElse(null));
        status.put("audit", auditHead.get());
        return status;
    }

    private List<Map<String, Object>> listeners() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (MllpListener l : parts.listeners()) {
            ListenerStats s = l.stats();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", l.name());
            m.put("port", l.port());
            m.put("open_connections", s.open());
            m.put("accepted", s.accepted());
            m.put("refused_over_limit", s.refusedOverLimit());
            m.put("refused_at_ceiling", s.refusedAtCeiling());
            m.put("frames", s.frames());
            m.put("problem", l.acceptProblem().orElse(null));
            out.add(m);
        }
        return out;
    }

    private Map<String, Object> journal() {
        Journal j = parts.journal();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("directory", j.directory().toString());
        m.put("begin", j.begin());
        m.put("end", j.end());
        m.put("size_bytes", j.end() - j.begin());
        m.put("problem", j.flusherProblem(Liveness.FLUSHER_STUCK_AFTER).orElse(null));
        return m;
    }

    private List<Map<String, Object>> connectors() {
        Map<String, Long> deadByConnector = new HashMap<>();
        for (DeadLetterIndex.Entry e : parts.deadLetters().list()) deadByConnector.merge(e.connector(), 1L, Long::sum);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String, DispatcherStats> e : parts.delivery().stats().entrySet()) {
            DispatcherStats s = e.getValue();
            DispatcherStats.Status st = s.status();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.getKey());
            m.put("state", st.state().name().toLowerCase(java.util.Locale.ROOT));
            m.put("since", st.since());
            m.put("reason", st.reason().isEmpty() ? null : st.reason());
            m.put("delivered", s.delivered());
            m.put("failed_attempts", s.failedAttempts());
            m.put("dead_letters_open", deadByConnector.getOrDefault(e.getKey(), 0L));
            m.put("backlog_bytes", parts.delivery().backlogBytes(e.getKey()));
            m.put("lag_seconds", parts.delivery().lag(e.getKey(), clock.instant()).toMillis() / 1000.0);
            m.put("cursor", s.cursor());
            m.put("last_error", s.lastError().isEmpty() ? null : s.lastError());
            out.add(m);
        }
        return out;
    }

    private static Instant notAfter(TlsAcceptor tls) {
        return tls.material().chain().getFirst().getNotAfter().toInstant();
    }
}
