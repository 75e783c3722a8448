package org.mllpserver.delivery;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** One connector's delivery counters, read by status commands and (later) metrics. Thread-safe. */
public final class DispatcherStats {
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong failedAttempts = new AtomicLong();
    final AtomicLong deadLetters = new AtomicLong();
    final AtomicLong cursor = new AtomicLong();
    final AtomicLong savedCursor = new AtomicLong();
    final AtomicLong caughtUpTo = new AtomicLong();
    /** Records the dispatcher has passed (delivered, dead-lettered, or not addressed to it), since it started. */
    final AtomicLong passed = new AtomicLong();
    /** At the last time it caught up: the journal's records appended since open, and {@link #passed}; -1 before it first caught up. */
    final AtomicLong journalRecordsWhenCaughtUp = new AtomicLong(-1);
    final AtomicLong passedWhenCaughtUp = new AtomicLong();
    /** When the record at the head of the queue (being delivered, or retried) was received; 0 when none waits. */
    final AtomicLong oldestUndeliveredMillis = new AtomicLong();
    final AtomicReference<String> lastError = new AtomicReference<>("");
    final AtomicReference<Status> status = new AtomicReference<>(new Status(State.STARTING, java.time.Instant.EPOCH, ""));

    /** Where a dispatcher is. */
    public enum State {
        /** Created, not reading yet. */
        STARTING,
        /** Reading and delivering (or waiting for records, or retrying one). */
        RUNNING,
        /** A failure it cannot deliver past (a full disk saving its cursor, a record it cannot read): it tries again by itself. */
        STALLED,
        /** Stopped with the server. */
        STOPPED
    }

    /**
     * A dispatcher's state, since when (the injected clock), and why when stalled: typed, so that
     * health and metrics read it without parsing text.
     */
    public record Status(State state, java.time.Instant since, String reason) {}

    public long delivered() {
        return delivered.get();
    }

    /** Called after each outcome: wakes those waiting in {@link #awaitOutcomes}. */
    synchronized void changed() {
        notifyAll();
    }

    /**
     * Waits until at least {@code delivered} records were delivered and {@code dead} became dead
     * letters, or {@code timeout} passes; true when they were. For operators' tools and tests that
     * must know delivery happened without polling.
     */
    public synchronized boolean awaitOutcomes(long delivered, long dead, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (this.delivered.get() < delivered || deadLetters.get() < dead) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /** Attempts that did not deliver (each retry and each final failure). */
    public long failedAttempts() {
        return failedAttempts.get();
    }

    public long deadLetters() {
        return deadLetters.get();
    }

    /** The position the dispatcher reads next (not necessarily saved yet). */
    public long cursor() {
        return cursor.get();
    }

    /** The cursor on disk: where delivery resumes after a crash, and what retention must keep. */
    public long savedCursor() {
        return savedCursor.get();
    }

    /** The journal end up to which everything was handled, last time the dispatcher found nothing new. */
    public long caughtUpTo() {
        return caughtUpTo.get();
    }

    public Status status() {
        return status.get();
    }

    /** When the oldest record this connector has yet to deliver was received (the one at the head), if one waits. */
    public java.util.Optional<java.time.Instant> oldestUndelivered() {
        long millis = oldestUndeliveredMillis.get();
        return millis == 0 ? java.util.Optional.empty() : java.util.Optional.of(java.time.Instant.ofEpochMilli(millis));
    }

    public String lastError() {
        return lastError.get();
    }
}
