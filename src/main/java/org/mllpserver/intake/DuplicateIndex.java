package org.mllpserver.intake;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The messages accepted within DEDUP_WINDOW, by (MSH-3, MSH-4, MSH-10): a message seen again gets
 * the original answer (AA) and is neither stored nor routed a second time. Rebuilt from the
 * journal at start, so it survives restarts. A message without MSH-10 cannot be recognised and is
 * never a duplicate.
 *
 * <p>Keys are SHA-256 of the three fields cut to 128 bits. A collision would make a different
 * message look like a duplicate; at 2^-128 per pair it is not a risk, and SHA-256 keeps it from
 * being provoked on purpose.
 *
 * <p>Layout: 64 shards, each an open-addressing table of primitive arrays (key halves and the
 * acceptance time) with a binary min-heap on acceptance time for expiry: about 100 bytes per
 * message in the window and nothing for the garbage collector to trace. (The heap, not a FIFO:
 * records found in the journal at start need not come in time order, and expiry must be exact.
 * Times from live acceptances only grow, so a push costs no sifting.) (A HashMap of small objects took
 * G1 pauses past 100 ms at 20 000 messages per second; it would also hold a gigabyte of objects at
 * 100 messages per second over a 24 h window.) Each shard has its own lock, so a resize stalls
 * 1/64 of the claims, briefly.
 *
 * <p>Two connections sending the same message at once: the second waits for the first one's
 * outcome; if the first is stored, the second is its duplicate, if not, the second is tried on its
 * own. Thread-safe.
 */
public final class DuplicateIndex {

    /** A message's identity: 128 bits of SHA-256 over MSH-3, MSH-4 and MSH-10. */
    public record Key(long high, long low) {

        private static final MessageDigest PROTOTYPE = newSha256();

        /** Empty when MSH-10 is blank. */
        public static Optional<Key> of(String sendingApplication, String sendingFacility, String controlId) {
            if (controlId.isBlank()) return Optional.empty();
            MessageDigest sha = sha256();
            for (String part : new String[]{sendingApplication, sendingFacility, controlId}) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                int n = bytes.length; // lengths keep "ab","c" apart from "a","bc"
                sha.update(new byte[]{(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
                sha.update(bytes);
            }
            java.nio.ByteBuffer digest = java.nio.ByteBuffer.wrap(sha.digest());
            return Optional.of(new Key(digest.getLong(), digest.getLong()));
        }

        /** A fresh digest: cloning the prototype skips the provider look-up of getInstance. */
        private static MessageDigest sha256() {
            try {
                return (MessageDigest) PROTOTYPE.clone();
            } catch (CloneNotSupportedException e) {
                return newSha256();
            }
        }

        private static MessageDigest newSha256() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }
    }

    /** The outcome of {@link #claim}. */
    public sealed interface Claim permits Duplicate, Fresh {}

    /** Accepted before, at {@code originallyAccepted}: answer as then, store nothing. */
    public record Duplicate(Instant originallyAccepted) implements Claim {}

    /** Not seen in the window: the caller stores it, then reports {@link #accepted()} or {@link #abandoned()}. */
    public static final class Fresh implements Claim {
        private final DuplicateIndex index;
        private final Key key;

        private Fresh(DuplicateIndex index, Key key) {
            this.index = index;
            this.key = key;
        }

        /** The message is durable: from now on it is a duplicate within the window. */
        public void accepted() {
            if (index != null) index.settle(key, true);
        }

        /** The message was not stored (refused or a storage failure): forget the claim. */
        public void abandoned() {
            if (index != null) index.settle(key, false);
        }
    }

    private static final Fresh UNTRACKED = new Fresh(null, null);
    private static final int SHARDS = 64;

    private final Duration window;
    private final Clock clock;
    private final Shard[] shards = new Shard[SHARDS];
    private final AtomicLong duplicates = new AtomicLong();

    /** {@code window} zero turns duplicate suppression off. */
    public DuplicateIndex(Duration window, Clock clock) {
        this.window = window;
        this.clock = clock;
        for (int i = 0; i < SHARDS; i++) shards[i] = new Shard();
    }

    public boolean enabled() {
        return !window.isZero();
    }

    /** Whether a message with this key was accepted within the window; reserves the key if not. */
    public Claim claim(Optional<Key> maybeKey) {
        if (!enabled() || maybeKey.isEmpty()) return UNTRACKED;
        Key key = maybeKey.get();
        Shard shard = shardOf(key);
        while (true) {
            CompletableFuture<Boolean> inFlight;
            synchronized (shard) {
                shard.evictBefore(clock.millis() - window.toMillis());
                inFlight = shard.pending.get(key);
                if (inFlight == null) {
                    long acceptedAt = shard.acceptedAt(key);
                    if (acceptedAt != 0) {
                        duplicates.incrementAndGet();
                        return new Duplicate(Instant.ofEpochMilli(acceptedAt));
                    }
                    shard.pending.put(key, new CompletableFuture<>());
                    return new Fresh(this, key);
                }
            }
            inFlight.join(); // the same message on another connection, being stored now: wait for its outcome
        }
    }

    /** Adds a message found in the journal at start (oldest first). */
    public void remember(Key key, Instant acceptedAt) {
        long millis = acceptedAt.toEpochMilli();
        if (!enabled() || millis < clock.millis() - window.toMillis()) return;
        Shard shard = shardOf(key);
        synchronized (shard) {
            shard.add(key, Math.max(1, millis));
        }
    }

    /** Duplicates recognised since start. */
    public long duplicates() {
        return duplicates.get();
    }

    /** Messages in the window (for tests and metrics). */
    public int size() {
        long cutoff = clock.millis() - window.toMillis();
        int size = 0;
        for (Shard shard : shards) {
            synchronized (shard) {
                shard.evictBefore(cutoff);
                size += shard.size;
            }
        }
        return size;
    }

    private void settle(Key key, boolean accepted) {
        Shard shard = shardOf(key);
        CompletableFuture<Boolean> pending;
        synchronized (shard) {
            pending = shard.pending.remove(key);
            if (accepted) shard.add(key, Math.max(1, clock.millis()));
        }
        if (pending != null) pending.complete(accepted);
    }

    private Shard shardOf(Key key) {
        return shards[(int) (key.high() >>> 58)];
    }

    /**
     * One shard: open addressing with linear probing over primitive arrays. A slot's time is 0
     * when it is empty and {@link #DELETED} when its entry expired. Every acceptance is also pushed
     * on a min-heap on time; expiry pops the heap while its least time is older than the window,
     * deleting the entry unless it was accepted again later. Guarded by the shard's monitor.
     */
    private static final class Shard {
        private static final long DELETED = -1;

        final Map<Key, CompletableFuture<Boolean>> pending = new HashMap<>();
        long[] high = new long[16];
        long[] low = new long[16];
        long[] time = new long[16];
        int size;
        int deleted;
        long[] heapHigh = new long[16];
        long[] heapLow = new long[16];
        long[] heapTime = new long[16];
        int heapSize;

        /** The acceptance time of {@code key}, or 0 when it is not here. */
        long acceptedAt(Key key) {
            int slot = find(key.high(), key.low());
            return slot < 0 ? 0 : time[slot];
        }

        /** Records an acceptance; a key already here keeps the later of the two times. */
        void add(Key key, long acceptedAt) {
            int slot = find(key.high(), key.low());
            if (slot >= 0 && time[slot] >= acceptedAt) return;
            if (slot < 0) {
                if ((size + deleted + 1) * 2 > high.length) rehash();
                slot = freeSlot(key.high());
                if (time[slot] == DELETED) deleted--;
                high[slot] = key.high();
                low[slot] = key.low();
                size++;
            }
            time[slot] = acceptedAt;
            push(key.high(), key.low(), acceptedAt);
        }

        void evictBefore(long cutoff) {
            while (heapSize > 0 && heapTime[0] < cutoff) {
                long h = heapHigh[0];
                long l = heapLow[0];
                long t = heapTime[0];
                popRoot();
                int slot = find(h, l);
                if (slot >= 0 && time[slot] == t) { // not accepted again since
                    time[slot] = DELETED;
                    size--;
                    deleted++;
                }
            }
        }

        private int find(long h, long l) {
            int mask = high.length - 1;
            for (int slot = (int) h & mask; ; slot = (slot + 1) & mask) {
                long t = time[slot];
                if (t == 0) return -1;
                if (t != DELETED && high[slot] == h && low[slot] == l) return slot;
            }
        }

        private int freeSlot(long h) {
            int mask = high.length - 1;
            int slot = (int) h & mask;
            while (time[slot] > 0) slot = (slot + 1) & mask;
            return slot;
        }

        /** Rebuilds the table at twice the live entries' need, dropping deleted slots. */
        private void rehash() {
            long[] oldHigh = high;
            long[] oldLow = low;
            long[] oldTime = time;
            int capacity = Math.max(16, Integer.highestOneBit(Math.max(1, size) * 4 - 1) << 1);
            high = new long[capacity];
            low = new long[capacity];
            time = new long[capacity];
            deleted = 0;
            for (int i = 0; i < oldTime.length; i++) {
                if (oldTime[i] <= 0) continue;
                int slot = freeSlot(oldHigh[i]);
                high[slot] = oldHigh[i];
                low[slot] = oldLow[i];
                time[slot] = oldTime[i];
            }
        }

        private void push(long h, long l, long t) {
            if (heapSize == heapTime.length) {
                heapHigh = java.util.Arrays.copyOf(heapHigh, heapSize * 2);
                heapLow = java.util.Arrays.copyOf(heapLow, heapSize * 2);
                heapTime = java.util.Arrays.copyOf(heapTime, heapSize * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heapTime[parent] <= t) break;
                set(i, heapHigh[parent], heapLow[parent], heapTime[parent]);
                i = parent;
            }
            set(i, h, l, t);
        }

        private void popRoot() {
            heapSize--;
            if (heapSize == 0) return;
            long h = heapHigh[heapSize];
            long l = heapLow[heapSize];
            long t = heapTime[heapSize];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= heapSize) break;
                if (child + 1 < heapSize && heapTime[child + 1] < heapTime[child]) child++;
                if (heapTime[child] >= t) break;
                set(i, heapHigh[child], heapLow[child], heapTime[child]);
                i = child;
            }
            set(i, h, l, t);
        }

        private void set(int i, long h, long l, long t) {
            heapHigh[i] = h;
            heapLow[i] = l;
            heapTime[i] = t;
        }
    }
}
