package org.mllpserver.mllp;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import static java.lang.System.Logger.Level.WARNING;

/**
 * The bytes every connection of the process together may hold in frames ({@code MAX_INFLIGHT_BYTES}):
 * frames being read and frames being handled, from their first byte until the connection asks
 * for its next frame. One budget is shared by every listener.
 *
 * <p><b>When it is full</b>, a connection that needs more is not read (backpressure: the
 * sender's TCP window fills) until room frees up, or its frame's deadline passes. A frame of
 * ordinary size (it would hold at most {@link #ORDINARY_FRAME_BYTES}) that has waited
 * {@link #GIVE_WAY_AFTER_NANOS} asks the connection holding the <em>largest unfinished</em>
 * frame, if larger than it, to give that frame up: that connection answers a NAK (when MSH-10
 * can be read) and is closed. Why the largest first: nearly all HL7 messages are a few KiB, so
 * senders trickling in huge frames cannot keep a lab's results out, and the sender that loses is
 * the one holding the most. Why only for ordinary frames, and only after a short wait: two big
 * frames then wait for each other instead of destroying each other in turns, and a big frame
 * about to end is not given up when waiting a moment would have freed the room. Why not a
 * per-connection allowance outside the budget: with no fixed limit on connections that would
 * leave the process without a bound. A complete frame (being handled) is never asked back.
 *
 * <p>Thread-safe. A reservation that fits is one compare-and-set; the lock is taken only to
 * wait, to ask a holder to give way, or to release while someone waits.
 */
public final class FrameBudget {

    private static final System.Logger LOG = System.getLogger(FrameBudget.class.getName());
    /** At most one "budget full" line per this period; the counters keep the rest. */
    private static final long PRESSURE_LOG_PERIOD_NANOS = 10_000_000_000L;
    /** A frame that would hold at most this is of ordinary size and may ask a larger unfinished one to give way. */
    public static final long ORDINARY_FRAME_BYTES = 64 * 1024;
    /** How long an ordinary frame waits for room before it asks: a turnover of memory usually frees room sooner. */
    static final long GIVE_WAY_AFTER_NANOS = 100_000_000L;

    private final long capacity;
    private final long ordinaryFrameBytes;
    private final LongSupplier nanoClock;
    private final AtomicLong used = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    private final Set<Holder> holders = new HashSet<>(); // guarded by lock
    private long leaving;                                // guarded by lock: bytes of frames asked to give way, not yet released
    private volatile int waiting;                        // written under lock
    private long lastPressureLogNanos = Long.MIN_VALUE;  // guarded by lock
    private final AtomicLong waits = new AtomicLong();
    private final AtomicLong gaveWay = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    public FrameBudget(long capacityBytes, LongSupplier nanoClock) {
        this(capacityBytes, ORDINARY_FRAME_BYTES, nanoClock);
    }

    /** As above, with another ordinary frame size (0: no frame ever gives way); for tests. */
    FrameBudget(long capacityBytes, long ordinaryFrameBytes, LongSupplier nanoClock) {
        if (capacityBytes < 1) throw new IllegalArgumentException("capacity must be positive");
        this.capacity = capacityBytes;
        this.ordinaryFrameBytes = ordinaryFrameBytes;
        this.nanoClock = nanoClock;
    }

    /** A connection's share; {@code wake} unblocks its read when it is asked to give way (it must not block). */
    public Holder holder(Runnable wake) {
        Holder holder = new Holder(wake);
        lock.lock();
        try {
            holders.add(holder);
        } finally {
            lock.unlock();
        }
        return holder;
    }

    public long capacity() {
        return capacity;
    }

    /** Bytes reserved now. */
    public long used() {
        return used.get();
    }

    /** The most bytes ever reserved at once. */
    public long peak() {
        return peak.get();
    }

    /** Connections waiting for room now. */
    public int waiting() {
        return waiting;
    }

    /** Reservations that had to wait, since start. */
    public long waits() {
        return waits.get();
    }

    /** Unfinished frames given up to make room for smaller ones, since start. */
    public long gaveWay() {
        return gaveWay.get();
    }

    /** Frames whose deadline passed while they waited for room, since start. */
    public long timedOut() {
        return timedOut.get();
    }

    /** Takes {@code bytes} if they fit now. */
    private boolean tryTake(long bytes) {
        while (true) {
            long now = used.get();
            if (now + bytes > capacity) return false;
            if (used.compareAndSet(now, now + bytes)) {
                peak.accumulateAndGet(now + bytes, Math::max);
                return true;
            }
        }
    }

    private void give(long bytes) {
        used.addAndGet(-bytes);
        if (waiting > 0) signalFreed();
    }

    private void signalFreed() {
        lock.lock();
        try {
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Asks the holder of the largest unfinished frame above {@code moreThan} bytes to give it up,
     * unless frames already asked will free enough. Under the lock.
     */
    private void askLargestToGiveWay(long bytesNeeded, long moreThan) {
        if (used.get() - leaving + bytesNeeded <= capacity) return; // what is already leaving will do
        Holder largest = null;
        for (Holder h : holders) {
            if (!h.asked && h.unfinished > moreThan && (largest == null || h.unfinished > largest.unfinished)) largest = h;
        }
        if (largest == null) return;
        largest.asked = true;
        largest.leavingBytes = largest.unfinished;
        leaving += largest.leavingBytes;
        gaveWay.incrementAndGet();
        freed.signalAll(); // it may be waiting itself
        try {
            largest.wake.run();
        } catch (RuntimeException e) {
            LOG.log(WARNING, "frame budget: could not wake a connection asked to give way: {0}", e.toString());
        }
    }

    private void logPressure() {
        long now = nanoClock.getAsLong();
        if (lastPressureLogNanos != Long.MIN_VALUE && now - lastPressureLogNanos < PRESSURE_LOG_PERIOD_NANOS) return;
        lastPressureLogNanos = now;
        LOG.log(WARNING, "frame memory budget full (MAX_INFLIGHT_BYTES={0} bytes): {1} connection(s) waiting to be read,"
                        + " {2} unfinished frame(s) given up to make room and {3} timed out waiting so far",
                String.valueOf(capacity), String.valueOf(waiting), String.valueOf(gaveWay.get()), String.valueOf(timedOut.get()));
    }

    /**
     * One connection's share of the budget: the {@link FrameMemory} its reader uses. Owned by the
     * connection's thread; {@link #asked} is set by other connections' threads under the lock.
     */
    public final class Holder implements FrameMemory {
        private final Runnable wake;
        /** Bytes this connection holds (owner thread; read under the lock by askers only through {@link #unfinished}). */
        private long held;
        /** Bytes of its frame that is not complete yet: what it could give up. */
        private volatile long unfinished;
        private volatile boolean asked;
        private long leavingBytes; // guarded by lock
        private boolean closed;    // guarded by lock

        private Holder(Runnable wake) {
            this.wake = wake;
        }

        @Override
        public Grant reserve(int bytes, long deadlineNanos) {
            Grant grant = take(bytes, deadlineNanos, true);
            if (grant == Grant.GRANTED) unfinished += bytes;
            return grant;
        }

        @Override
        public Grant reserveWhole(int bytes, long deadlineNanos) {
            return take(bytes, deadlineNanos, false);
        }

        private Grant take(int bytes, long deadlineNanos, boolean growsUnfinished) {
            if (asked) return Grant.GAVE_WAY;
            if (held + bytes > capacity) return Grant.NEVER_FITS;
            if (tryTake(bytes)) {
                held += bytes;
                return Grant.GRANTED;
            }
            Grant grant = waitForRoom(bytes, deadlineNanos, growsUnfinished ? unfinished + bytes : bytes);
            if (grant == Grant.GRANTED) held += bytes;
            return grant;
        }

        private Grant waitForRoom(int bytes, long deadlineNanos, long wouldHold) {
            lock.lock();
            try {
                waiting++;
                waits.incrementAndGet();
                logPressure();
                long askAt = wouldHold <= ordinaryFrameBytes ? nanoClock.getAsLong() + GIVE_WAY_AFTER_NANOS : Long.MAX_VALUE;
                while (true) {
                    if (asked || closed) return Grant.GAVE_WAY;
                    if (tryTake(bytes)) return Grant.GRANTED;
                    long now = nanoClock.getAsLong();
                    if (now - askAt >= 0) askLargestToGiveWay(bytes, wouldHold);
                    long remaining = deadlineNanos - now;
                    if (remaining <= 0) {
                        timedOut.incrementAndGet();
                        return Grant.TIMED_OUT;
                    }
                    freed.awaitNanos(askAt - now > 0 ? Math.min(remaining, askAt - now) : remaining);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Grant.GAVE_WAY;
            } finally {
                waiting--;
                lock.unlock();
            }
        }

        @Override
        public boolean settle() {
            if (unfinished == 0) return !asked;
            lock.lock();
            try {
                if (asked) return false;
                unfinished = 0;
                return true;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void release(long bytes) {
            if (bytes <= 0) return;
            if (bytes > held) throw new IllegalStateException("releasing " + bytes + " bytes, holding " + held);
            held -= bytes;
            unfinished = Math.min(unfinished, held);
            if (asked) {
                lock.lock();
                try {
                    long back = Math.min(bytes, leavingBytes);
                    leavingBytes -= back;
                    leaving -= back;
                } finally {
                    lock.unlock();
                }
            }
            give(bytes);
        }

        @Override
        public boolean gaveWay() {
            return asked;
        }

        /** Bytes this connection holds now (its thread only). */
        public long held() {
            return held;
        }

        /**
         * Wakes the owner if it waits for room (the connection is being closed) without giving
         * anything back yet: the owner still references its bytes. Any thread.
         */
        public void interrupt() {
            lock.lock();
            try {
                closed = true;
                freed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /** The connection is gone: everything it held is given back. Its thread, once. */
        public void close() {
            lock.lock();
            try {
                closed = true;
                holders.remove(this);
                leaving -= leavingBytes;
                leavingBytes = 0;
            } finally {
                lock.unlock();
            }
            long all = held;
            held = 0;
            unfinished = 0;
            if (all > 0) give(all);
        }
    }
}
