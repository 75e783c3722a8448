package org.mllpserver.mllp;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * How many connections the whole process holds at once, over every listener, whatever
 * {@code MAX_CONNECTIONS} says: each connection costs heap (its read buffer, thread and socket;
 * a TLS one its engine's buffers too) and a file descriptor, so both are bounded here. The
 * composition root sizes it from the heap and the descriptor limit.
 *
 * <p><b>At the ceiling</b>, a new connection takes the place of the connection that has waited
 * longest for a frame with nothing in flight, if it has waited at least {@link #MIN_IDLE}: that
 * one is closed (its sender loses nothing and reconnects with its next message). Otherwise the
 * new connection is refused. Why: a flood of connections that send nothing must not lock out a
 * lab that connects to send a result; and a sender that sends at least once a second is never
 * the one closed.
 *
 * <p>Thread-safe.
 */
public final class ConnectionCeiling {

    /** A connection must have waited this long for a frame before it can be closed to make room. */
    public static final long MIN_IDLE_NANOS = 1_000_000_000L;

    /** What the ceiling needs of a connection. */
    public interface Member {
        /** Since when (on the ceiling's clock) it has waited for a frame with nothing in flight; {@link Long#MAX_VALUE} when busy. */
        long idleSinceNanos();

        /** Closes it if it is still idle; true if it did. Must not block. */
        boolean closeToMakeRoom(String why);
    }

    private final long maxBytes;
    private final int maxConnections;
    private final LongSupplier nanoClock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Member, Long> members = new HashMap<>(); // guarded by lock: member → its cost
    private long usedBytes;                                   // guarded by lock
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong madeRoom = new AtomicLong();

    public ConnectionCeiling(long maxBytes, int maxConnections, LongSupplier nanoClock) {
        if (maxBytes < 1 || maxConnections < 1) throw new IllegalArgumentException("a ceiling must be positive");
        this.maxBytes = maxBytes;
        this.maxConnections = maxConnections;
        this.nanoClock = nanoClock;
    }

    /** No ceiling (tests of one listener). */
    public static ConnectionCeiling none() {
        return new ConnectionCeiling(Long.MAX_VALUE, Integer.MAX_VALUE, System::nanoTime);
    }

    /**
     * Admits {@code member}, which costs {@code bytes}; at the ceiling, closes the connection idle
     * longest to make room. False when there is no room and none to make: refuse it.
     */
    public boolean admit(Member member, long bytes) {
        lock.lock();
        try {
            while (!fits(bytes)) {
                if (!makeRoom()) {
                    refused.incrementAndGet();
                    return false;
                }
            }
            members.put(member, bytes);
            usedBytes += bytes;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The connection is gone (idempotent). */
    public void leave(Member member) {
        lock.lock();
        try {
            Long bytes = members.remove(member);
            if (bytes != null) usedBytes -= bytes;
        } finally {
            lock.unlock();
        }
    }

    private boolean fits(long bytes) {
        return members.size() < maxConnections && usedBytes + bytes <= maxBytes;
    }

    /** Closes the member idle longest, if idle long enough; it counts as gone at once. */
    private boolean makeRoom() {
        long now = nanoClock.getAsLong();
        Member oldest = null;
        long oldestSince = Long.MAX_VALUE;
        for (Member m : members.keySet()) {
            long since = m.idleSinceNanos();
            if (since != Long.MAX_VALUE && now - since >= MIN_IDLE_NANOS && since < oldestSince) {
                oldest = m;
                oldestSince = since;
            }
        }
        if (oldest == null) return false;
        if (oldest.closeToMakeRoom("closed to make room for a new connection: the server's connection ceiling ("
                + maxConnections + " connections, " + maxBytes + " bytes of heap) was reached and it had been idle longest")) {
            usedBytes -= members.remove(oldest);
            madeRoom.incrementAndGet();
        }
        return true; // closed; or a frame started meanwhile, and the next look passes over it
    }

    public int maxConnections() {
        return maxConnections;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Connections counted now. */
    public int open() {
        lock.lock();
        try {
            return members.size();
        } finally {
            lock.unlock();
        }
    }

    /** Connections waiting for a frame with nothing in flight now. */
    public int idle() {
        lock.lock();
        try {
            return (int) members.keySet().stream().filter(m -> m.idleSinceNanos() != Long.MAX_VALUE).count();
        } finally {
            lock.unlock();
        }
    }

    /** Connections refused at the ceiling, since start. */
    public long refused() {
        return refused.get();
    }

    /** Idle connections closed to make room for new ones, since start. */
    public long madeRoom() {
        return madeRoom.get();
    }
}
