package org.mllpserver.intake;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
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
 * <p>Keys are SHA-256 of the three fields cut to 128 bits, about 100 bytes of memory per message in
 * the window. A collision would make a different message look like a duplicate; at 2^-128 per
 * pair it is not a risk, and SHA-256 keeps it from being provoked on purpose.
 *
 * <p>Two connections sending the same message at once: the second waits for the first one's
 * outcome; if the first is stored, the second is its duplicate, if not, the second is tried on
 * its own. Thread-safe.
 */
public final class DuplicateIndex {

    /** A message's identity: 128 bits of SHA-256 over MSH-3, MSH-4 and MSH-10. */
    public record Key(long high, long low) {

        /** Empty when MSH-10 is blank. */
        public static Optional<Key> of(String sendingApplication, String sendingFacility, String controlId) {
            if (controlId.isBlank()) return Optional.empty();
            MessageDigest sha = sha256();
            for (String part : new String[]{sendingApplication, sendingFacility, controlId}) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array()); // lengths keep "ab","c" apart from "a","bc"
                sha.update(bytes);
            }
            ByteBuffer digest = ByteBuffer.wrap(sha.digest());
            return Optional.of(new Key(digest.getLong(), digest.getLong()));
        }

        private static MessageDigest sha256() {
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
        private final Entry entry;

        private Fresh(DuplicateIndex index, Key key, Entry entry) {
            this.index = index;
            this.key = key;
            this.entry = entry;
        }

        /** The message is durable: from now on it is a duplicate within the window. */
        public void accepted() {
            if (index != null) index.settle(key, entry, true);
        }

        /** The message was not stored (refused or a storage failure): forget the claim. */
        public void abandoned() {
            if (index != null) index.settle(key, entry, false);
        }
    }

    private static final class Entry {
        long acceptedAtMillis;
        CompletableFuture<Boolean> pending = new CompletableFuture<>(); // null once accepted
    }

    private record Expiry(Key key, long acceptedAtMillis) {}

    private static final Fresh UNTRACKED = new Fresh(null, null, null);

    private final Duration window;
    private final Clock clock;
    private final Map<Key, Entry> entries = new HashMap<>(); // guarded by this
    private final ArrayDeque<Expiry> order = new ArrayDeque<>(); // guarded by this; oldest acceptance first
    private final AtomicLong duplicates = new AtomicLong();

    /** {@code window} zero turns duplicate suppression off. */
    public DuplicateIndex(Duration window, Clock clock) {
        this.window = window;
        this.clock = clock;
    }

    public boolean enabled() {
        return !window.isZero();
    }

    /** Whether a message with this key was accepted within the window; reserves the key if not. */
    public Claim claim(Optional<Key> key) {
        if (!enabled() || key.isEmpty()) return UNTRACKED;
        while (true) {
            CompletableFuture<Boolean> inFlight;
            synchronized (this) {
                evictExpired(clock.millis());
                Entry entry = entries.get(key.get());
                if (entry == null) {
                    Entry reserved = new Entry();
                    entries.put(key.get(), reserved);
                    return new Fresh(this, key.get(), reserved);
                }
                if (entry.pending == null) {
                    duplicates.incrementAndGet();
                    return new Duplicate(Instant.ofEpochMilli(entry.acceptedAtMillis));
                }
                inFlight = entry.pending;
            }
            inFlight.join(); // the same message on another connection, being stored now: wait for its outcome
        }
    }

    /** Adds a message found in the journal at start (oldest first). */
    public synchronized void remember(Key key, Instant acceptedAt) {
        if (!enabled() || acceptedAt.toEpochMilli() < clock.millis() - window.toMillis()) return;
        Entry entry = new Entry();
        entry.acceptedAtMillis = acceptedAt.toEpochMilli();
        entry.pending = null;
        entries.put(key, entry);
        order.add(new Expiry(key, entry.acceptedAtMillis));
    }

    /** Duplicates recognised since start. */
    public long duplicates() {
        return duplicates.get();
    }

    /** Messages in the window (for tests and metrics). */
    public synchronized int size() {
        evictExpired(clock.millis());
        return entries.size();
    }

    private void settle(Key key, Entry entry, boolean accepted) {
        CompletableFuture<Boolean> pending;
        synchronized (this) {
            pending = entry.pending;
            if (accepted) {
                entry.acceptedAtMillis = clock.millis();
                entry.pending = null;
                order.add(new Expiry(key, entry.acceptedAtMillis));
            } else if (entries.get(key) == entry) {
                entries.remove(key);
            }
        }
        if (pending != null) pending.complete(accepted);
    }

    private void evictExpired(long nowMillis) {
        long cutoff = nowMillis - window.toMillis();
        while (!order.isEmpty() && order.peek().acceptedAtMillis() < cutoff) {
            Expiry oldest = order.poll();
            Entry entry = entries.get(oldest.key());
            if (entry != null && entry.pending == null && entry.acceptedAtMillis == oldest.acceptedAtMillis()) {
                entries.remove(oldest.key());
            }
        }
    }
}
