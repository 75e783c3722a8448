package org.mllpserver.mllp;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import static java.lang.System.Logger.Level.WARNING;

/**
 * The bytes every connection of the process together may hold in frames ({@code MAX_INFLIGHT_BYTES}):
 * frames being read, frames being handled and answered, from their first byte until the
 * connection asks for its next frame. One budget is shared by every listener.
 *
 * <p><b>When it is full</b>, a connection that needs more is not read (backpressure: the
 * sender's TCP window fills) until room frees up, or its frame's deadline passes. A frame of
 * ordinary size (it would hold at most {@link #ORDINARY_FRAME_BYTES}) that has waited
 * {@link #GIVE_WAY_AFTER_NANOS} asks the connection holding the most, if at least what it would
 * (of equals, the one holding its bytes longest), to give way: a connection with an <em>unfinished</em> frame gives that frame up, or one whose answer
 * has not been read for {@link #STUCK_REPLY_NANOS} is closed. The first answers a NAK (when
 * MSH-10 can be read); both are closed. Why the largest first: nearly all HL7 messages are a
 * few KiB, so senders trickling in huge frames cannot keep a lab's results out, and the sender
 * that loses is the one holding the most. Why only for ordinary frames, and only after a short
 * wait: two big frames then wait for each other instead of destroying each other in turns, and
 * a big frame about to end is not given up when waiting a moment would have freed the room.
 * Why not a per-connection allowance outside the budget: with no fixed limit on connections that
 * would leave the process without a bound. A frame being handled is never asked back.
 *
 * <p>Waiters are woken one at a time, the first (in arrival order) whose need fits the room that
 * was freed; whoever takes room passes what is left on. Finding the largest holder is a scan of
 * the connections, done once per frame asked to give way, not per release.
 *
 * <p>Thread-safe. A reservation that fits is one compare-and-set; the lock is taken only to
 * wait, to ask a holder to give way, or to release while someone waits.
 */
public final class FrameBudget {

    private static final System.Logger LOG = System.getLogger(FrameBudget.class.getName());
    /** At most one "budget full" line per this period; the counters keep the rest. */
    private static final long PRESSURE_LOG_PERIOD_NANOS = 10_000_000_000L;
    /** A frame that would hold at most this is of ordinary size and may ask a larger one to give way. */
    public static final long ORDINARY_FRAME_BYTES = 64 * 1024;
    /** How long an ordinary frame waits for room before it asks: a turnover of memory usually frees room sooner. */
    static final long GIVE_WAY_AFTER_NANOS = 100_000_000L;
    /** An answer not taken by its peer for this long marks a connection that may be closed to make room. */
    static final long STUCK_REPLY_NANOS = 1_000_000_000L;

    private final long capacity;
    private final long ordinaryFrameBytes;
    private final LongSupplier nanoClock;
    private final AtomicLong used = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<Holder> holders = new HashSet<>();     // guarded by lock
    private final ArrayDeque<Holder> queue = new ArrayDeque<>(); // guarded by lock: waiters, in arrival order
    private long leaving;                                    // guarded by lock: bytes asked back and not released yet
    private volatile int waiting;                            // written under lock
    private long lastPressureLogNanos = Long.MIN_VALUE;      // guarded by lock
    private final AtomicLong waits = new AtomicLong();
    private final AtomicLong gaveWay = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong looks = new AtomicLong();

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

    /** A connection's share; {@code wake} makes it give way (ends its blocked read or write); it must not block. */
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

    /** Connections asked to give way to make room for smaller frames, since start. */
    public long gaveWay() {
        return gaveWay.get();
    }

    /** Frames whose deadline passed while they waited for room, since start. */
    public long timedOut() {
        return timedOut.get();
    }

    /** Times a waiter looked for someone to ask to give way (for tests). */
    long looks() {
        return looks.get();
    }

    /** Bytes asked back and not released yet (for tests: it must return to 0). */
    long leaving() {
        lock.lock();
        try {
            return leaving;
        } finally {
            lock.unlock();
        }
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
        if (waiting > 0) {
            lock.lock();
            try {
                wakeNextThatFits();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The first waiter that may ask others to give way, or null. Under the lock. */
    private Holder firstAsker() {
        for (Holder h : queue) if (h.mayAsk) return h;
        return null;
    }

    /** Wakes the first waiter whose need fits the room there is now. Under the lock. */
    private void wakeNextThatFits() {
        long room = capacity - used.get();
        if (room <= 0) return;
        for (Holder h : queue) {
            if (h.need <= room) {
                h.turn.signal();
                return;
            }
        }
    }

    /**
     * Asks the connection holding the most, at least {@code atLeast} bytes (what the asker would
     * hold), to give way, unless bytes already asked back will free enough. Of equals, the one
     * that has held its bytes longest goes: a frame is never given up for a larger one. Under the lock.
     */
    private void askLargestToGiveWay(Holder asker, long bytesNeeded, long atLeast) {
        looks.incrementAndGet();
        if (used.get() - leaving + bytesNeeded <= capacity) return; // what is already asked back will do
        long now = nanoClock.getAsLong();
        Holder largest = null;
        long largestBytes = 0;
        for (Holder h : holders) {
            long bytes = h.givable(now);
            if (h.asked || h == asker || bytes < atLeast || bytes < largestBytes) continue;
            if (bytes > largestBytes || h.since < largest.since) { // the most; of equals, the one holding it longest
                largest = h;
                largestBytes = bytes;
            }
        }
        if (largest == null) return;
        largest.asked = true;
        largest.leavingBytes = largestBytes;
        leaving += largestBytes;
        gaveWay.incrementAndGet();
        if (largest.turn != null) largest.turn.signal(); // it may be waiting itself
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
                        + " {2} connection(s) asked to give way to make room and {3} frame(s) timed out waiting so far",
                String.valueOf(capacity), String.valueOf(waiting), String.valueOf(gaveWay.get()), String.valueOf(timedOut.get()));
    }

    /**
     * One connection's share of the budget: the {@link FrameMemory} its reader uses. Owned by the
     * connection's thread; {@link #asked} is set by other connections' threads under the lock.
     */
    public final class Holder implements FrameMemory {
        private final Runnable wake;
        /** Bytes this connection holds (its own thread only). */
        private long held;
        /** Bytes of its frame that is not complete yet: what it could give up. */
        private volatile long unfinished;
        /** Bytes held while its answer is written, and since when (0: not writing). */
        private volatile long replying;
        private volatile long replyingSince;
        private volatile boolean asked;
        /** Since when it has held its unfinished frame, or its unread answer. */
        private volatile long since;
        private long leavingBytes;  // guarded by lock
        private boolean closed;     // guarded by lock
        private long need;          // guarded by lock: what it waits for
        private boolean mayAsk;     // guarded by lock: it waits for an ordinary frame, which may ask others to give way
        private Condition turn;     // guarded by lock: made on its first wait

        private Holder(Runnable wake) {
            this.wake = wake;
        }

        /** What this connection could give up now: its unfinished frame, or a held answer its peer has not taken for a while. */
        private long givable(long now) {
            long frame = unfinished;
            if (frame > 0) return frame;
            long since = replyingSince;
            return since != 0 && now - since >= STUCK_REPLY_NANOS ? replying : 0;
        }

        @Override
        public Grant reserve(int bytes, long deadlineNanos) {
            if (unfinished == 0) since = nanoClock.getAsLong(); // a new frame
            Grant grant = take(bytes, deadlineNanos, unfinished + bytes);
            if (grant == Grant.GRANTED) unfinished += bytes;
            return grant;
        }

        @Override
        public Grant reserveWhole(int bytes, long deadlineNanos) {
            return take(bytes, deadlineNanos, bytes);
        }

        private Grant take(int bytes, long deadlineNanos, long wouldHold) {
            if (asked) return Grant.GAVE_WAY;
            if (held + bytes > capacity) return Grant.NEVER_FITS;
            if (tryTake(bytes)) {
                held += bytes;
                return Grant.GRANTED;
            }
            Grant grant = waitForRoom(bytes, deadlineNanos, wouldHold);
            if (grant == Grant.GRANTED) held += bytes;
            return grant;
        }

        private Grant waitForRoom(int bytes, long deadlineNanos, long wouldHold) {
            lock.lock();
            Grant grant = Grant.TIMED_OUT;
            try {
                if (turn == null) turn = lock.newCondition();
                need = bytes;
                queue.addLast(this);
                waiting++;
                waits.incrementAndGet();
                logPressure();
                mayAsk = wouldHold <= ordinaryFrameBytes;
                long since = nanoClock.getAsLong();
                while (true) {
                    if (asked || closed) {
                        grant = Grant.GAVE_WAY;
                        return grant;
                    }
                    if (tryTake(bytes)) {
                        grant = Grant.GRANTED;
                        return grant;
                    }
                    long now = nanoClock.getAsLong();
                    long waited = now - since;
                    if (mayAsk && waited >= GIVE_WAY_AFTER_NANOS) askLargestToGiveWay(this, bytes, wouldHold);
                    long remaining = deadlineNanos - now;
                    if (remaining <= 0) {
                        timedOut.incrementAndGet();
                        return grant;
                    }
                    turn.awaitNanos(Math.min(remaining, nextLook(waited)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                grant = Grant.GAVE_WAY;
                return grant;
            } finally {
                boolean wasFirstAsker = firstAsker() == this;
                queue.remove(this);
                waiting--;
                if (wasFirstAsker) {
                    Holder next = firstAsker(); // takes over looking again for someone to ask
                    if (next != null) next.turn.signal();
                }
                wakeNextThatFits(); // what it did not take (or what is left after it took) goes to the next
                lock.unlock();
            }
        }

        /**
         * How long to wait before looking again for someone to ask: an ordinary frame first asks
         * after {@link #GIVE_WAY_AFTER_NANOS}; after that only the first ordinary waiter looks again,
         * every as long (a connection may become worth asking: a frame grows, an answer stays
         * unread), so that thousands of waiters do not all scan the connections. Others wait to be
         * woken. Under the lock.
         */
        private long nextLook(long waited) {
            if (!mayAsk) return Long.MAX_VALUE;
            if (waited < GIVE_WAY_AFTER_NANOS) return GIVE_WAY_AFTER_NANOS - waited;
            return firstAsker() == this ? GIVE_WAY_AFTER_NANOS : Long.MAX_VALUE;
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

        /**
         * Its answer is being written; what it holds may be asked back if the peer does not take the
         * answer for {@link #STUCK_REPLY_NANOS} (the connection is then closed).
         */
        public void replying() {
            replying = held;
            long now = nanoClock.getAsLong() | 1; // never 0, which means "not writing"
            since = now;
            replyingSince = now;
        }

        /** Its answer is written. */
        public void replied() {
            replyingSince = 0;
            replying = 0;
        }

        @Override
        public void release(long bytes) {
            if (bytes <= 0) return;
            if (bytes > held) throw new IllegalStateException("releasing " + bytes + " bytes, holding " + held);
            held -= bytes;
            unfinished = Math.min(unfinished, held);
            if (asked) noLongerLeaving();
            give(bytes);
        }

        /**
         * A connection asked to give way has given up its frame: what it still holds (the first
         * bytes, for its NAK and the journal) is no longer counted as about to be freed, so the
         * next waiter asks someone else rather than wait for a connection that may be slow to close.
         */
        private void noLongerLeaving() {
            lock.lock();
            try {
                leaving -= leavingBytes;
                leavingBytes = 0;
            } finally {
                lock.unlock();
            }
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
                if (turn != null) turn.signal();
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
            replied();
            if (all > 0) give(all);
        }
    }
}
