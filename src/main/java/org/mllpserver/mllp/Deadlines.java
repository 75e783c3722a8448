package org.mllpserver.mllp;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Deadlines that a blocked read cannot enforce by itself (a socket timeout starts again with every
 * byte): the action, usually closing a socket, runs when the deadline passes unless the caller
 * cancelled it first. One daemon thread serves every deadline of the process; cancelled ones are
 * removed at once, since most are cancelled.
 */
public final class Deadlines {

    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private Deadlines() {}

    /** Runs {@code action} in {@code millis} (at least 1) unless the returned future is cancelled first. */
    public static ScheduledFuture<?> after(long millis, Runnable action) {
        return TIMER.schedule(action, Math.max(1, millis), TimeUnit.MILLISECONDS);
    }

    /**
     * Runs {@code action} every {@code millis} until the returned future is cancelled; an action
     * that throws is logged and runs again at its next period (a periodic task that throws would
     * otherwise silently stop).
     */
    public static ScheduledFuture<?> every(long millis, Runnable action) {
        return TIMER.scheduleWithFixedDelay(() -> {
            try {
                action.run();
            } catch (Throwable e) {
                try {
                    System.getLogger(Deadlines.class.getName()).log(System.Logger.Level.ERROR, "a periodic check failed: " + e);
                } catch (Throwable outOfMemory) {
                    // the next period matters more than the line
                }
            }
        }, Math.max(1, millis), Math.max(1, millis), TimeUnit.MILLISECONDS);
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name("deadlines").daemon(true).factory());
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }
}
