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
 * acceptance time) with a binary min-heap on acceptance time for expiry: 72 to 144 bytes per
 * message in the window (about 105 at the cap with the JVM's overhead, see {@link #BYTES_PER_ENTRY}) and nothing for the
 * garbage collector to trace. (The heap, not a FIFO:
 * records found in the journal at start need not come in time order, and expiry must be exact.
 * Times from live acceptances only grow, so a push costs no sifting.) (A HashMap of small objects took
 * G1 pauses past 100 ms at 20 000 messages per second; it would also hold a gigabyte of objects at
 * 100 messages per second over a 24 h window.) Each shard has its own lock, so a resize stalls
 * 1/64 of the claims, briefly.
 *
 * <p><b>A cap.</b> At most {@code maxEntries} keys (DEDUP_MAX_ENTRIES), spread over the shards;
 * past it the oldest go first, so under a flood of unique control ids the effective window
 * shrinks instead of the heap filling. Counted, and logged at most once a minute. What a
 * duplicate then costs: a message re-sent after its key went is stored and delivered again, as
 * a new record (new record id) with the same MSH-3, MSH-4 and MSH-10, by which a downstream can
 * recognise it.
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
    /** Heap one key costs, measured (BENCHMARKS.md): its table slots at the table's load and its place in the expiry heap. */
    public static final long BYTES_PER_ENTRY = 110;
    /** Entries dropped for the cap are logged at most this often. */
    private static final long CAP_LOG_PERIOD_MILLIS = 60_000;
    private static final int SAVE_VERSION = 1;
    private static final System.Logger LOG = System.getLogger(DuplicateIndex.class.getName());

    private final Duration window;
    private final Clock clock;
    private final long maxEntries;
    private final int shardCap;
    private final Shard[] shards = new Shard[SHARDS];
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong droppedForCap = new AtomicLong();
    private final AtomicLong droppedSinceLog = new AtomicLong();
    private final AtomicLong lastCapLogMillis = new AtomicLong();

    /** {@code window} zero turns duplicate suppression off. No cap (tests). */
    public DuplicateIndex(Duration window, Clock clock) {
        this(window, clock, Long.MAX_VALUE);
    }

    /** {@code window} zero turns duplicate suppression off; at most {@code maxEntries} keys are kept. */
    public DuplicateIndex(Duration window, Clock clock, long maxEntries) {
        if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be positive");
        this.window = window;
        this.clock = clock;
        this.maxEntries = maxEntries;
        this.shardCap = (int) Math.min(Integer.MAX_VALUE / 4, maxEntries / SHARDS + (maxEntries % SHARDS == 0 ? 0 : 1));
        for (int i = 0; i < SHARDS; i++) shards[i] = new Shard(shardCap);
    }

    /** The default cap: an eighth of the heap at {@link #BYTES_PER_ENTRY} a key. */
    public static long defaultMaxEntries(long maxHeapBytes) {
        return Math.max(SHARDS, maxHeapBytes / 8 / BYTES_PER_ENTRY);
    }

    public long maxEntries() {
        return maxEntries;
    }

    /** Bytes the index's arrays take now (what it holds, however full): for tests and metrics. */
    public long retainedBytes() {
        long bytes = 0;
        for (Shard shard : shards) {
            synchronized (shard) {
                bytes += 8L * (shard.high.length + shard.low.length + shard.time.length
                        + shard.heapHigh.length + shard.heapLow.length + shard.heapTime.length);
            }
        }
        return bytes;
    }

    /** Keys dropped because the index was at its cap, since start. */
    public long droppedForCap() {
        return droppedForCap.get();
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
        int dropped;
        synchronized (shard) {
            shard.add(key, Math.max(1, millis));
            dropped = shard.trimTo(shardCap);
        }
        if (dropped > 0) droppedForCap(dropped, shard);
    }

    /** Counts keys dropped for the cap, and says so at most once a minute, with the window that is left. */
    private void droppedForCap(int dropped, Shard shard) {
        droppedForCap.addAndGet(dropped);
        droppedSinceLog.addAndGet(dropped);
        long now = clock.millis();
        long last = lastCapLogMillis.get();
        if (now - last < CAP_LOG_PERIOD_MILLIS || !lastCapLogMillis.compareAndSet(last, now)) return;
        long oldest;
        synchronized (shard) {
            oldest = shard.heapSize > 0 ? shard.heapTime[0] : now;
        }
        LOG.log(System.Logger.Level.WARNING, "duplicate index at its cap (DEDUP_MAX_ENTRIES={0}): {1} key(s) dropped, oldest first,"
                        + " since the last such line; a message is now recognised as a duplicate for about {2} s instead of DEDUP_WINDOW"
                        + " ({3} s): one re-sent later is stored and delivered again",
                String.valueOf(maxEntries), String.valueOf(droppedSinceLog.getAndSet(0)), String.valueOf(Math.max(0, (now - oldest) / 1000)),
                String.valueOf(window.toSeconds()));
    }

    /**
     * Writes every key in the window (two longs and the acceptance time) for a checkpoint, a shard
     * at a time: each shard is copied under its lock and written after, so claims wait only for
     * the copy.
     */
    public void save(java.io.DataOutput out) throws java.io.IOException {
        long cutoff = clock.millis() - window.toMillis();
        out.writeInt(SAVE_VERSION);
        out.writeLong(window.toMillis());
        out.writeLong(maxEntries);
        for (Shard shard : shards) {
            long[] copy;
            synchronized (shard) {
                copy = shard.live(cutoff);
            }
            out.writeInt(copy.length / 3);
            for (long v : copy) out.writeLong(v);
        }
        out.writeInt(-1); // the end
    }

    /** Takes in what {@link #save} wrote (keys already expired are left out); throws IOException when it is not that. */
    public void load(java.io.DataInput in) throws java.io.IOException {
        int version = in.readInt();
        if (version != SAVE_VERSION) throw new java.io.IOException("duplicate index checkpoint version " + version + " is not known");
        long savedWindow = in.readLong();
        long savedCap = in.readLong();
        // Saved under a shorter window or a lower cap, it lacks keys the journal would give: read the journal instead.
        if (savedWindow < window.toMillis()) throw new java.io.IOException("DEDUP_WINDOW grew since it was saved");
        if (savedCap < maxEntries) throw new java.io.IOException("DEDUP_MAX_ENTRIES grew since it was saved");
        for (int count = in.readInt(); count != -1; count = in.readInt()) {
            if (count < 0) throw new java.io.IOException("a duplicate index checkpoint declares " + count + " keys");
            for (int i = 0; i < count; i++) {
                Key key = new Key(in.readLong(), in.readLong());
                remember(key, Instant.ofEpochMilli(in.readLong()));
            }
        }
    }

    /** Empties the index (a checkpoint turned out not to fit the journal, which is then read whole). */
    public void clear() {
        for (int i = 0; i < SHARDS; i++) {
            synchronized (shards[i]) {
                shards[i].clearKeys();
            }
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
        int dropped = 0;
        synchronized (shard) {
            pending = shard.pending.remove(key);
            if (accepted) {
                shard.add(key, Math.max(1, clock.millis()));
                dropped = shard.trimTo(shardCap);
            }
        }
        if (pending != null) pending.complete(accepted);
        if (dropped > 0) droppedForCap(dropped, shard);
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

        /** The most keys this shard keeps (its share of the cap). */
        final int cap;
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

        Shard(int cap) {
            this.cap = cap;
        }

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

        /** Drops the oldest keys until at most {@code cap} are left; returns how many went. */
        int trimTo(int cap) {
            int dropped = 0;
            while (size > cap && heapSize > 0) {
                long h = heapHigh[0];
                long l = heapLow[0];
                long t = heapTime[0];
                popRoot();
                int slot = find(h, l);
                if (slot >= 0 && time[slot] == t) {
                    time[slot] = DELETED;
                    size--;
                    deleted++;
                    dropped++;
                }
            }
            return dropped;
        }

        /** The keys accepted at or after {@code cutoff}: high, low, time, in triples. */
        long[] live(long cutoff) {
            long[] out = new long[size * 3];
            int n = 0;
            for (int i = 0; i < time.length && n < out.length; i++) {
                if (time[i] <= 0 || time[i] < cutoff) continue;
                out[n++] = high[i];
                out[n++] = low[i];
                out[n++] = time[i];
            }
            return n == out.length ? out : java.util.Arrays.copyOf(out, n);
        }

        void clearKeys() {
            high = new long[16];
            low = new long[16];
            time = new long[16];
            size = 0;
            deleted = 0;
            heapHigh = new long[16];
            heapLow = new long[16];
            heapTime = new long[16];
            heapSize = 0;
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
            for (int slot = home(h); ; slot = next(slot)) {
                long t = time[slot];
                if (t == 0) return -1;
                if (t != DELETED && high[slot] == h && low[slot] == l) return slot;
            }
        }

        private int freeSlot(long h) {
            int slot = home(h);
            while (time[slot] > 0) slot = next(slot);
            return slot;
        }

        /** A key's first slot. The capacity need not be a power of two, so that a capped table is sized to its cap. */
        private int home(long h) {
            return (int) Long.remainderUnsigned(h, high.length);
        }

        private int next(int slot) {
            return slot + 1 == high.length ? 0 : slot + 1;
        }

        /**
         * Rebuilds the table for the live entries, dropping deleted slots: four slots a key (a
         * quarter full, so it grows as much again before the next rebuild), but a capped shard
         * near its cap gets three slots a key of the cap: a third full there, and half its cap of
         * inserts before the next rebuild. So a full index holds about {@link #BYTES_PER_ENTRY}
         * a key, whatever the cap.
         */
        private void rehash() {
            long[] oldHigh = high;
            long[] oldLow = low;
            long[] oldTime = time;
            long wanted = Math.min(4L * Math.max(1, size), 3L * cap + 16);
            int capacity = (int) Math.max(16, Math.max(wanted, 2L * size + 4));
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
                // Doubling, but a capped shard's heap stops at its cap (plus room for a few keys seen twice).
                long grown = heapSize * 2L;
                if (heapSize < cap + 16 && grown > cap + 16) grown = cap + 16;
                int capacity = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(grown, heapSize + 1L));
                heapHigh = java.util.Arrays.copyOf(heapHigh, capacity);
                heapLow = java.util.Arrays.copyOf(heapLow, capacity);
                heapTime = java.util.Arrays.copyOf(heapTime, capacity);
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
