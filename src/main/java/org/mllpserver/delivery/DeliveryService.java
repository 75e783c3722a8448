package org.mllpserver.delivery;

import org.mllpserver.events.Events;
import org.mllpserver.journal.Journal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Every connector's dispatcher: created at start, each on its own virtual thread, stopped at
 * shutdown. A connector without a cursor starts at the journal's beginning, and that cursor is
 * saved before the listener opens, so no record addressed to it can be missed.
 */
public final class DeliveryService {

    private static final System.Logger LOG = System.getLogger(DeliveryService.class.getName());

    /** What the service needs to know of one configured connector. */
    public record Route(String name, ConnectorSettings settings, RetryPolicy retry) {}

    /** Builds a connector for its settings; throws with a clear message when it cannot (e.g. an unreadable CA file). */
    @FunctionalInterface
    public interface ConnectorFactory {
        Connector create(String name, ConnectorSettings settings) throws Exception;
    }

    private record Running(Dispatcher dispatcher, Thread thread, DispatcherStats stats) {}

    private final CursorStore cursors;
    private final Journal journal;
    private final Map<String, Running> running = new LinkedHashMap<>();

    private DeliveryService(CursorStore cursors, Journal journal) {
        this.cursors = cursors;
        this.journal = journal;
    }

    /**
     * Loads or creates every connector's cursor (a cursor beyond the journal's end refuses to
     * start: it comes from another data directory, or the journal lost its tail), builds the
     * connectors and starts their dispatchers.
     */
    public static DeliveryService start(List<Route> routes, ConnectorFactory factory, Journal journal, Path cursorDirectory,
                                        DeadLetterQueue deadLetters) throws IOException {
        return start(routes, factory, journal, cursorDirectory, deadLetters, java.time.Clock.systemUTC(), Events.NONE);
    }

    /** As above, with the clock dispatchers' states are timed by, and the listeners told of every delivery attempt. */
    public static DeliveryService start(List<Route> routes, ConnectorFactory factory, Journal journal, Path cursorDirectory,
                                        DeadLetterQueue deadLetters, java.time.Clock clock, Events events) throws IOException {
        DeliveryService service = new DeliveryService(new CursorStore(cursorDirectory), journal);
        long end = journal.end();
        Map<String, Long> starts = new LinkedHashMap<>();
        service.keepForOthers(routes);
        for (Route route : routes) {
            Optional<Long> saved = service.cursors.load(route.name());
            if (saved.isPresent() && saved.get() > end) {
                throw new IOException("the cursor of connector " + route.name() + " (position " + saved.get()
                        + ") is beyond the journal's end (" + end + "): the cursor file is from another data directory, or the"
                        + " journal lost records. Check DATA_DIR; to deliver from the end on, delete " + cursorDirectory
                        .resolve(route.name() + ".cursor"));
            }
            // No cursor: read the whole retained journal. Records name the connectors they were addressed
            // to, so a new connector finds only what was accepted since it was configured (nothing is
            // skipped, e.g. after an upgrade, or when a damaged cursor file was deleted); it costs one scan.
            long start = saved.orElse(journal.begin());
            if (start < journal.begin()) {
                // Its records before the journal's start were deleted by retention while it was not configured.
                LOG.log(WARNING, "connector {0}: its cursor (position {1}) is before the journal's start ({2}); the records in"
                        + " between were deleted while it was not configured; it goes on from the start", route.name(),
                        String.valueOf(start), String.valueOf(journal.begin()));
                start = journal.begin();
                service.cursors.save(route.name(), start);
            }
            if (saved.isEmpty()) {
                service.cursors.save(route.name(), start);
                LOG.log(INFO, "connector {0} has no cursor yet: it reads the journal from its start (position {1})",
                        route.name(), String.valueOf(start));
            }
            starts.put(route.name(), start);
        }
        List<Connector> built = new ArrayList<>();
        try {
            for (Route route : routes) built.add(factory.create(route.name(), route.settings()));
        } catch (Exception e) {
            built.forEach(Connector::close);
            throw new IOException("cannot set up a connector: " + e.getMessage(), e);
        }
        for (int i = 0; i < routes.size(); i++) {
            Route route = routes.get(i);
            DispatcherStats stats = new DispatcherStats();
            long start = starts.get(route.name());
            Dispatcher dispatcher = new Dispatcher(built.get(i), route.retry(), journal, journal.directory(), service.cursors,
                    deadLetters, start, stats, duration -> Thread.sleep(duration), clock, events);
            Dispatcher.logStart(route.name(), start, end);
            Thread thread = Thread.ofVirtual().name("dispatcher-" + route.name()).start(dispatcher);
            service.running.put(route.name(), new Running(dispatcher, thread, stats));
        }
        return service;
    }

    /**
     * The lowest saved cursor, of the running connectors and of cursor files left by connectors no
     * longer configured (they may come back): the journal keeps every segment from there on.
     * MAX_VALUE without any.
     */
    public long lowestCursor() {
        long lowest = running.values().stream().mapToLong(r -> r.stats().savedCursor()).min().orElse(Long.MAX_VALUE);
        return Math.min(lowest, others(false));
    }

    /**
     * The lowest cursor of connectors not configured now: they keep the journal, and the operator
     * is told at start. Read again each time (housekeeping, every minute), so deleting such a
     * cursor file releases the journal without a restart. A damaged one is reported, not counted.
     */
    private long others(boolean report) {
        long lowest = Long.MAX_VALUE;
        try {
            for (Map.Entry<String, Long> e : cursors.all(damaged -> {
                if (report) LOG.log(WARNING, damaged);
            }).entrySet()) {
                if (configured.contains(e.getKey())) continue;
                lowest = Math.min(lowest, e.getValue());
                if (report) {
                    LOG.log(WARNING, "connector {0} is not configured but has a cursor (position {1}): the journal is kept from"
                            + " there until it comes back or its cursor file is deleted", e.getKey(), String.valueOf(e.getValue()));
                }
            }
        } catch (IOException e) {
            LOG.log(WARNING, "cannot list the cursor files: {0}; retention keeps everything meanwhile", e.getMessage());
            return Long.MIN_VALUE;
        }
        return lowest;
    }

    private final java.util.Set<String> configured = new java.util.HashSet<>();

    private void keepForOthers(List<Route> routes) {
        routes.forEach(r -> configured.add(r.name()));
        others(true);
    }

    /** Journal bytes between a connector's cursor and the journal's end: 0 when it has caught up. */
    public long backlogBytes(String connector) {
        Running r = running.get(connector);
        return r == null ? 0 : Math.max(0, journal.end() - Math.max(r.stats().cursor(), r.stats().caughtUpTo()));
    }

    /**
     * Records in the journal the connector has yet to pass (addressed to it or not): exact once
     * its dispatcher has caught up once since start (the journal's records since then, less those
     * it passed); before that, estimated from the bytes behind at the journal's mean record size.
     */
    public long backlogRecords(String connector) {
        Running r = running.get(connector);
        if (r == null) return 0;
        DispatcherStats s = r.stats();
        long base = s.journalRecordsWhenCaughtUp.get();
        if (base >= 0) return Math.max(0, (journal.endAndRecords().records() - base) - (s.passed.get() - s.passedWhenCaughtUp.get()));
        long records = journal.stats().records();
        long meanBytes = records == 0 ? 1024 : Math.max(1, journal.stats().bytes() / records);
        return backlogBytes(connector) / meanBytes;
    }

    /** How old the oldest record the connector has yet to deliver is: zero when it has caught up. */
    public Duration lag(String connector, java.time.Instant now) {
        Running r = running.get(connector);
        if (r == null) return Duration.ZERO;
        return r.stats().oldestUndelivered().map(t -> Duration.between(t, now)).filter(d -> !d.isNegative()).orElse(Duration.ZERO);
    }

    public Map<String, DispatcherStats> stats() {
        Map<String, DispatcherStats> all = new LinkedHashMap<>();
        running.forEach((name, r) -> all.put(name, r.stats()));
        return all;
    }

    /**
     * Connectors whose dispatcher thread ended although the service was not stopped: their
     * records would wait for good. (A dispatcher survives every failure by itself; this is for
     * liveness, which then makes the process exit so that a supervisor restarts it.)
     */
    public List<String> endedDispatchers() {
        if (stopped) return List.of();
        List<String> ended = new ArrayList<>();
        running.forEach((name, r) -> {
            if (!r.thread().isAlive()) ended.add(name);
        });
        return ended;
    }

    private volatile boolean stopped;

    /** Stops every dispatcher (each saves its cursor) and waits up to {@code timeout} in all. */
    public void stop(Duration timeout) throws InterruptedException {
        stopped = true;
        for (Running r : running.values()) {
            r.dispatcher().stop();
            r.thread().interrupt();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Map.Entry<String, Running> e : running.entrySet()) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            if (!e.getValue().thread().join(Duration.ofMillis(left))) {
                LOG.log(WARNING, "connector {0}: its dispatcher did not stop in time; it resumes from its last saved cursor", e.getKey());
            }
        }
    }
}
