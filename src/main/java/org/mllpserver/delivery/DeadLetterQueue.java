package org.mllpserver.delivery;

import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.DeadLetterResolution;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.RecordIds;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RecordVisitor;
import org.mllpserver.journal.Replay;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The dead letters: records a connector gave up on, kept in the journal (DEAD_LETTER, with the
 * whole message) until an operator replays or purges them (DEAD_LETTER_RESOLVED). The operations
 * here are what {@code ./run.sh dlq} and, later, the admin HTTP API call, while the server runs.
 *
 * <p>Replay appends a REPLAY record: the message again, with the same record id (so a
 * downstream that did get it after all can drop the repeat), addressed to the chosen connectors;
 * it is delivered after everything already in the journal, and FIFO holds for what follows.
 * Thread-safe; replays and purges are serialized.
 */
public final class DeadLetterQueue {

    /** An unresolved dead letter and where it is in the journal. */
    public record Entry(long position, DeadLetter deadLetter) {}

    private final Journal journal;
    private final RecordIds ids;
    private final Clock clock;
    private final Set<String> connectors;
    private final Map<UUID, Entry> open = new LinkedHashMap<>();

    public DeadLetterQueue(Journal journal, RecordIds ids, Clock clock, Set<String> connectors) {
        this.journal = journal;
        this.ids = ids;
        this.clock = clock;
        this.connectors = Set.copyOf(connectors);
    }

    /** Rebuilds the open dead letters from the journal as it is opened. */
    public static RecordVisitor rebuild(Map<UUID, Entry> into) {
        return (position, type, body) -> {
            if (type == RecordType.DEAD_LETTER) {
                DeadLetter d = DeadLetter.decode(body);
                into.put(d.id(), new Entry(position, d));
            } else if (type == RecordType.DEAD_LETTER_RESOLVED) {
                into.remove(DeadLetterResolution.decode(body).deadLetterId());
            } else if (type == RecordType.REPLAY) {
                into.remove(Replay.decode(body).deadLetterId());
            }
        };
    }

    /** Takes the dead letters found by {@link #rebuild} at start. */
    public synchronized void load(Map<UUID, Entry> found) {
        open.putAll(found);
    }

    /** Records a dead letter durably (the journal forces it); only then may the dispatcher move on. */
    DeadLetter add(String connector, int attempts, String lastError, Delivery delivery) throws IOException {
        DeadLetter d = new DeadLetter(ids.next(), clock.instant(), connector, attempts, lastError, delivery.position(), delivery.message());
        long position = journal.append(RecordType.DEAD_LETTER, d.encode());
        synchronized (this) {
            open.put(d.id(), new Entry(position, d));
        }
        return d;
    }

    /** The open dead letters, oldest first. */
    public synchronized List<Entry> list() {
        List<Entry> all = new ArrayList<>(open.values());
        all.sort(Comparator.comparingLong(Entry::position));
        return all;
    }

    public synchronized Optional<Entry> get(UUID id) {
        return Optional.ofNullable(open.get(id));
    }

    /** The lowest journal position an open dead letter holds (retention keeps its segment); MAX_VALUE when none. */
    public synchronized long oldestPosition() {
        return open.values().stream().mapToLong(Entry::position).min().orElse(Long.MAX_VALUE);
    }

    /**
     * Replays a dead letter: to {@code connector} when given, else to every configured connector
     * the record was addressed to when {@code toAllAddressed}, else to the connector that gave up
     * on it. Returns the connectors it went to. One REPLAY record does both (resolves the dead
     * letter, carries the message), so a crash cannot leave one done without the other; replays
     * and purges are serialized, so the same dead letter is never replayed twice.
     */
    public synchronized List<String> replay(UUID id, Optional<String> connector, boolean toAllAddressed) throws IOException {
        Entry entry = get(id).orElseThrow(() -> new IllegalArgumentException("no open dead letter " + id));
        StoredMessage original = entry.deadLetter().message();
        List<String> targets = connector.map(List::of).orElse(toAllAddressed
                ? original.connectors().stream().filter(connectors::contains).toList()
                : List.of(entry.deadLetter().connector()));
        for (String target : targets) {
            if (!connectors.contains(target)) throw new IllegalArgumentException("no connector named " + target + " is configured");
        }
        if (targets.isEmpty()) throw new IllegalArgumentException("none of the connectors the record was addressed to is configured now");
        StoredMessage again = new StoredMessage(original.id(), original.receivedAt(), original.peer(), original.tlsIdentity(),
                original.sendingApplication(), original.sendingFacility(), original.messageType(), original.controlId(),
                original.charset(), targets, original.raw());
        Replay replay = new Replay(id, clock.instant(), "replayed to " + String.join(", ", targets), again);
        journal.append(RecordType.REPLAY, replay.encode());
        open.remove(id);
        return targets;
    }

    /** Purges one dead letter: it is no longer listed, its message is not delivered. */
    public synchronized void purge(UUID id) throws IOException {
        if (get(id).isEmpty()) throw new IllegalArgumentException("no open dead letter " + id);
        resolve(id, "purged");
    }

    private void resolve(UUID id, String action) throws IOException {
        journal.append(RecordType.DEAD_LETTER_RESOLVED, new DeadLetterResolution(id, clock.instant(), action).encode());
        synchronized (this) {
            open.remove(id);
        }
    }
}
