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
 * <p><b>At the ceiling</b>, a new connection takes the place of another, if one has been
 * stalled or idle for at least {@link #MIN_IDLE_NANOS}: from the remote address holding the most
 * connections first; among its connections one stalled longest (a frame started and not finished,
 * or a TLS handshake not done), else one idle longest (waiting for a frame with nothing in
 * flight). That one is closed: an idle sender loses nothing and reconnects with its next
 * message; a stalled one loses only its unfinished frame, which it sends again. Otherwise the new
 * connection is refused. Why: a flood of connections that send nothing, or one byte each, must
 * not lock out a lab that connects to send a result; the address holding the most loses first;
 * and a sender that sends at least once a second is never the one closed.
 *
 * <p>Thread-safe.
 */
public final class ConnectionCeiling {

    /** A connection must have waited this long for a frame before it can be closed to make room. */
    public static final long MIN_IDLE_NANOS = 1_000_000_000L;

    /** What the ceiling needs of a connection. */
    public interface Member {
        /** Since when (on the ceiling's clock) it has waited for a frame with nothing in flight; {@link Long#MAX_VALUE} when not. */
        long idleSinceNanos();

        /** Since when it has been in an unfinished frame or a TLS handshake; {@link Long#MAX_VALUE} when not. */
        long stalledSinceNanos();

        /** The peer's address, by which connections are counted; null when unknown. */
        java.net.InetAddress remoteAddress();

        /** Closes it if it is still idle or stalled; true if it did. Must not block. */
        boolean closeToMakeRoom(String why);
    }

    private final long maxBytes;
    private final int maxConnections;
    private final LongSupplier nanoClock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Member, Long> members = new HashMap<>(); // guarded by lock: member → its cost
    private final Map<java.net.InetAddress, Integer> perAddress = new HashMap<>(); // guarded by lock
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
            perAddress.merge(addressOf(member), 1, Integer::sum);
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
            if (bytes != null) forget(member, bytes);
        } finally {
            lock.unlock();
        }
    }

    private boolean fits(long bytes) {
        return members.size() < maxConnections && usedBytes + bytes <= maxBytes;
    }

    private void forget(Member member, long bytes) {
        usedBytes -= bytes;
        perAddress.computeIfPresent(addressOf(member), (a, n) -> n == 1 ? null : n - 1);
    }

    private static java.net.InetAddress addressOf(Member member) {
        java.net.InetAddress address = member.remoteAddress();
        return address != null ? address : java.net.InetAddress.getLoopbackAddress();
    }

    /** Closes the member chosen as the class javadoc says, if any may be; it counts as gone at once. */
    private boolean makeRoom() {
        long now = nanoClock.getAsLong();
        Member chosen = null;
        long chosenScore = Long.MIN_VALUE;
        for (Member m : members.keySet()) {
            long score = score(m, now);
            if (score > chosenScore) {
                chosen = m;
                chosenScore = score;
            }
        }
        if (chosen == null || chosenScore < 0) return false;
        if (chosen.closeToMakeRoom("closed to make room for a new connection: the server's connection ceiling ("
                + maxConnections + " connections, " + maxBytes + " bytes of heap) was reached and this one "
                + (chosen.stalledSinceNanos() != Long.MAX_VALUE ? "had been stalled" : "had been idle") + " longest, from the address"
                + " holding the most connections")) {
            forget(chosen, members.remove(chosen));
            madeRoom.incrementAndGet();
        }
        return true; // closed; or it moved on meanwhile, and the next look judges it again
    }

    /**
     * How much a member should be the one closed: the connections its address holds, then stalled
     * before idle, then how long; negative when it may not be closed (neither long enough).
     */
    private long score(Member m, long now) {
        long stalled = age(m.stalledSinceNanos(), now);
        long idle = age(m.idleSinceNanos(), now);
        int category = stalled >= MIN_IDLE_NANOS ? 2 : idle >= MIN_IDLE_NANOS ? 1 : 0;
        if (category == 0) return -1;
        long connections = Math.min(perAddress.getOrDefault(addressOf(m), 1), (1 << 20) - 1);
        long ageMillis = Math.min((category == 2 ? stalled : idle) / 1_000_000L, (1L << 40) - 1);
        return connections << 42 | (long) category << 40 | ageMillis;
    }

    private static long age(long since, long now) {
        return since == Long.MAX_VALUE ? -1 : now - since;
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

    /** Connections in an unfinished frame or a TLS handshake now. */
    public int stalled() {
        lock.lock();
        try {
            return (int) members.keySet().stream().filter(m -> m.stalledSinceNanos() != Long.MAX_VALUE).count();
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
