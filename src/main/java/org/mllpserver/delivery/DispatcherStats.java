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
    final AtomicReference<String> lastError = new AtomicReference<>("");
    final AtomicReference<String> state = new AtomicReference<>("starting");

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

    /** "running", "stalled since ...: why" (it tries again by itself), or "stopped". */
    public String state() {
        return state.get();
    }

    public String lastError() {
        return lastError.get();
    }
}
