package org.mllpserver.delivery;

import org.mllpserver.events.Events;
import org.mllpserver.hl7.Problem;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.JournalTail;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.Replay;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * One connector's delivery loop, on its own virtual thread: reads the journal from the
 * connector's cursor up to the journal's forced end, and delivers each record addressed to the
 * connector, in journal order.
 *
 * <p><b>FIFO.</b> Record n+1 is not attempted before record n is delivered or dead-lettered: a
 * failing record is retried (exponential backoff with jitter, {@link RetryPolicy}) while the
 * records behind it wait. <b>Durable steps, in order:</b> deliver (the downstream has it) or
 * append a dead letter (forced); only then advance the cursor in memory; save it to disk
 * (batched: every {@link #SAVE_EVERY_RECORDS} records or {@link #SAVE_EVERY} and when idle or
 * stopping). After a crash delivery resumes from the last saved cursor: at least once, and the
 * record id goes with every delivery so a downstream can drop a repeat.
 *
 * <p>A slow or dead downstream holds up only this connector: intake and the other dispatchers
 * never wait for it.
 */
final class Dispatcher implements Runnable {

    private static final System.Logger LOG = System.getLogger(Dispatcher.class.getName());
    /** Records read from the journal at a time... */
    static final int READ_BATCH = 500;
    /** ...and at most about this many bytes of them (a few 4 MiB messages must not take the heap). */
    static final long READ_BYTES = 16L << 20;
    /** After a failure (full disk, a bug), the dispatcher tries again after this long, doubling up to... */
    private static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
    /** ...this. */
    private static final Duration LAST_PAUSE = Duration.ofMinutes(1);
    /** Cursor saves are batched: at most this many records delivered between two saves... */
    static final int SAVE_EVERY_RECORDS = 1000;
    /** ...and at most this long. */
    static final Duration SAVE_EVERY = Duration.ofMillis(200);
    /** How long an idle dispatcher waits for the journal to grow before checking again. */
    private static final long IDLE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A failed dead-letter write (disk full) is tried again after this long; nothing moves meanwhile. */
    private static final Duration STORAGE_RETRY = Duration.ofSeconds(5);

    private final Connector connector;
    private final RetryPolicy retry;
    private final Journal journal;
    private final Path journalDirectory;
    private final CursorStore cursors;
    private final DeadLetterQueue deadLetters;
    private final DispatcherStats stats;
    private final Sleeper sleeper;
    private final java.time.Clock clock;
    private final Events events;

    private long cursor;
    private long savedCursor;
    private long savedAtNanos;
    private int sinceSave;
    private volatile boolean stopping;

    /** Waits; a test passes one that records the waits instead. */
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    Dispatcher(Connector connector, RetryPolicy retry, Journal journal, Path journalDirectory, CursorStore cursors,
               DeadLetterQueue deadLetters, long startCursor, DispatcherStats stats, Sleeper sleeper, java.time.Clock clock, Events events) {
        this.clock = clock;
        this.events = events;
        this.connector = connector;
        this.retry = retry;
        this.journal = journal;
        this.journalDirectory = journalDirectory;
        this.cursors = cursors;
        this.deadLetters = deadLetters;
        this.cursor = startCursor;
        this.savedCursor = startCursor;
        this.stats = stats;
        this.sleeper = sleeper;
        stats.cursor.set(startCursor);
        stats.savedCursor.set(startCursor);
    }

    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        savedAtNanos = System.nanoTime();
        Duration pause = FIRST_PAUSE;
        long stalledAt = -1;
        try {
            while (!stopping) {
                try {
                    deliverFromCursor();
                } catch (Throwable e) { // an Error too: a dispatcher that died silently would hold up its connector for good
                    if (stopping) break; // the stop's interrupt, not a failure
                    if (cursor != stalledAt) pause = FIRST_PAUSE; // it got further since the last stall
                    stalledAt = cursor;
                    reportStall(e, pause);
                    sleeper.sleep(pause);
                    pause = pause.multipliedBy(2).compareTo(LAST_PAUSE) > 0 ? LAST_PAUSE : pause.multipliedBy(2);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stats.status.set(new DispatcherStats.Status(DispatcherStats.State.STOPPED, clock.instant(), ""));
            // An interrupted thread cannot use a FileChannel (ClosedByInterruptException): the stop's
            // interrupt is set aside while the cursor is saved, then restored.
            boolean interrupted = Thread.interrupted();
            try {
                saveCursor(false);
            } catch (IOException e) {
                LOG.log(ERROR, "connector {0}: could not save its cursor at stop ({1}); it resumes from the last saved one",
                        connector.name(), e.getMessage());
            }
            connector.close();
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * Supervised: a full disk saving the cursor, a record that will not decode, a bug, out of
     * memory. Nothing is lost (the cursor has not passed the record); say so loudly, and when even
     * that fails for want of memory, go on to the pause and the next try all the same.
     */
    private void reportStall(Throwable e, Duration pause) {
        try {
            stats.status.set(new DispatcherStats.Status(DispatcherStats.State.STALLED, clock.instant(), e.toString()));
            LOG.log(ERROR, "connector " + connector.name() + ": delivery stalled at position " + cursor + " (" + e
                    + "); trying again in " + pause.toSeconds() + " s", e);
        } catch (Throwable outOfMemory) {
            // the next try matters more than the report
        }
    }

    /** Reads from the cursor and delivers until stopped; a failure ends it (the caller tries again). */
    private void deliverFromCursor() throws IOException, InterruptedException {
        try (JournalTail tail = new JournalTail(journalDirectory, cursor)) {
            stats.status.set(new DispatcherStats.Status(DispatcherStats.State.RUNNING, clock.instant(), ""));
            while (!stopping) {
                Journal.EndAndRecords now = journal.endAndRecords();
                long end = now.end();
                List<JournalReader.Entry> entries = tail.read(end, READ_BATCH, READ_BYTES);
                if (entries.isEmpty()) {
                    stats.caughtUpTo.set(end);
                    stats.passedWhenCaughtUp.set(stats.passed.get());
                    stats.journalRecordsWhenCaughtUp.set(now.records());
                    stats.oldestUndeliveredMillis.set(0); // caught up: nothing waits
                    saveCursor(false);
                    journal.awaitEndBeyond(end, IDLE_WAIT_NANOS);
                    continue;
                }
                process(entries);
                saveCursor(true);
            }
        }
    }

    /** Delivers the runs of records addressed to this connector; steps over the rest. */
    private void process(List<JournalReader.Entry> entries) throws InterruptedException, IOException {
        List<Delivery> run = new ArrayList<>();
        for (JournalReader.Entry entry : entries) {
            if (stopping) return;
            StoredMessage message = switch (entry.type()) {
                case MESSAGE -> StoredMessage.decode(entry.body());
                case REPLAY -> Replay.decode(entry.body()).message();
                default -> null;
            };
            if (message != null && message.connectors().contains(connector.name())) {
                run.add(new Delivery(entry.position(), message));
            } else {
                if (!deliverInOrder(run)) return;
                run.clear();
                advance(entry.position());
            }
        }
        deliverInOrder(run);
    }

    /** Delivers {@code run} in order, retrying the head; false when stopping before the end. */
    private boolean deliverInOrder(List<Delivery> run) throws InterruptedException, IOException {
        int next = 0;
        int attempts = 0;
        while (next < run.size()) {
            if (stopping) return false;
            List<Delivery> rest = run.subList(next, Math.min(run.size(), next + Math.max(1, connector.maxBatch())));
            stats.oldestUndeliveredMillis.set(rest.getFirst().message().receivedAt().toEpochMilli()); // the head: the oldest waiting
            List<Outcome> outcomes;
            long attemptStarted = System.nanoTime();
            try {
                outcomes = connector.deliverAll(rest);
            } catch (RuntimeException e) {
                // A connector bug on this record: counted as a failed attempt, so a record that always
                // trips it becomes a dead letter after its attempts instead of holding the queue for good.
                outcomes = List.of(new Outcome.Retryable("the connector failed: " + e));
            }
            if (outcomes.isEmpty()) outcomes = List.of(new Outcome.Retryable("the connector returned no outcome")); // never spin
            long perRecord = (System.nanoTime() - attemptStarted) / outcomes.size();
            for (int i = 0; i < outcomes.size(); i++) {
                Delivery delivery = rest.get(i);
                boolean attemptsLeft = attempts + 1 < retry.maxAttempts();
                report(delivery, outcomes.get(i), attemptsLeft, attempts + 1, perRecord);
                switch (outcomes.get(i)) {
                    case Outcome.Delivered delivered -> {
                        stats.delivered.incrementAndGet();
                        stats.changed();
                        advance(delivery.position());
                        attempts = 0;
                        next++;
                    }
                    case Outcome.Retryable retryable when attemptsLeft -> {
                        attempts++;
                        failed(retryable.reason());
                        Duration wait = retry.delayAfter(attempts, ThreadLocalRandom.current().nextDouble());
                        LOG.log(WARNING, "connector {0}: attempt {1} of {2} for record {3} failed ({4}); next in {5} ms",
                                connector.name(), attempts, retry.maxAttempts(), delivery.message().id(), retryable.reason(), wait.toMillis());
                        saveCursor(false); // what was delivered before this record is not repeated after a crash
                        sleeper.sleep(wait);
                    }
                    case Outcome.Retryable retryable -> {
                        failed(retryable.reason());
                        deadLetter(delivery, attempts + 1, "out of attempts: " + retryable.reason());
                        attempts = 0;
                        next++;
                    }
                    case Outcome.Undeliverable undeliverable -> {
                        failed(undeliverable.reason());
                        deadLetter(delivery, attempts + 1, undeliverable.reason());
                        attempts = 0;
                        next++;
                    }
                }
                // The contract: only the last outcome may be other than Delivered. One that breaks it
                // must not make the dispatcher step over the records after a failure.
                if (!(outcomes.get(i) instanceof Outcome.Delivered)) break;
            }
        }
        return true;
    }

    /** Tells the listeners how the attempt went: delivered, to be retried, or a dead letter now. */
    private void report(Delivery delivery, Outcome outcome, boolean attemptsLeft, int attempt, long nanos) {
        if (events == Events.NONE) return;
        Events.DeliveryOutcome kind;
        String reason;
        switch (outcome) {
            case Outcome.Delivered d -> {
                kind = Events.DeliveryOutcome.DELIVERED;
                reason = "";
            }
            case Outcome.Retryable r -> {
                kind = attemptsLeft ? Events.DeliveryOutcome.RETRY : Events.DeliveryOutcome.DEAD_LETTER;
                reason = r.reason();
            }
            case Outcome.Undeliverable u -> {
                kind = Events.DeliveryOutcome.DEAD_LETTER;
                reason = u.reason();
            }
        }
        StoredMessage m = delivery.message();
        events.delivery(new Events.Delivery(clock.instant(), connector.name(), kind, m.id(), delivery.position(), m.messageType(),
                m.controlId(), attempt, nanos, reason));
    }

    private void failed(String reason) {
        stats.failedAttempts.incrementAndGet();
        stats.lastError.set(reason);
    }

    /** The dead letter must be durable before the cursor passes the record: a failed write is tried again, nothing moves meanwhile. */
    private void deadLetter(Delivery delivery, int attempts, String reason) throws InterruptedException {
        while (!stopping) {
            try {
                deadLetters.add(connector.name(), attempts, reason, delivery);
                stats.deadLetters.incrementAndGet();
                stats.changed();
                LOG.log(WARNING, "connector {0}: record {1} (control id {2}) is a dead letter after {3} attempt(s): {4}",
                        connector.name(), delivery.message().id(), Problem.controlIdForLog(delivery.message().controlId()), attempts, reason);
                advance(delivery.position());
                return;
            } catch (IOException e) {
                LOG.log(ERROR, "connector {0}: could not store a dead letter ({1}); trying again in {2} s",
                        connector.name(), e.getMessage(), STORAGE_RETRY.toSeconds());
                sleeper.sleep(STORAGE_RETRY);
            }
        }
        throw new InterruptedException("stopping before the dead letter was stored; the record is delivered again after restart");
    }

    /** The record at {@code position} is done: the next read starts after it. */
    private void advance(long position) {
        stats.passed.incrementAndGet();
        cursor = position + 1;
        stats.cursor.set(cursor);
        sinceSave++;
    }

    private void saveCursor(boolean onlyIfDue) throws IOException {
        if (cursor == savedCursor) return;
        if (onlyIfDue && sinceSave < SAVE_EVERY_RECORDS && System.nanoTime() - savedAtNanos < SAVE_EVERY.toNanos()) return;
        cursors.save(connector.name(), cursor);
        savedCursor = cursor;
        stats.savedCursor.set(cursor);
        savedAtNanos = System.nanoTime();
        sinceSave = 0;
    }

    static void logStart(String connector, long cursor, long end) {
        LOG.log(INFO, "connector {0}: delivering from position {1} ({2} bytes of journal behind)", connector,
                String.valueOf(cursor), String.valueOf(Math.max(0, end - cursor)));
    }
}
