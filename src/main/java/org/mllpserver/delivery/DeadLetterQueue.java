package org.mllpserver.delivery;

import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.DeadLetterResolution;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.RecordIds;
import org.mllpserver.journal.RecordReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.Replay;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

/**
 * The dead letters: records a connector gave up on, kept in the journal (DEAD_LETTER, with the
 * whole message) until an operator replays or purges them. The operations here are what
 * {@code ./run.sh dlq} and the admin HTTP API call, while the server runs.
 *
 * <p>In memory only the {@link DeadLetterIndex} (metadata); a dead letter's message is read
 * from its DEAD_LETTER record when it is shown or replayed.
 *
 * <p>Replay appends a REPLAY record: the message again, with the same record id (so a
 * downstream that did get it after all can drop the repeat), addressed to the chosen connectors;
 * it is delivered after everything already in the journal, and FIFO holds for what follows.
 * Replaying or purging all of them writes their records in groups of {@link #GROUP} forced
 * together. Each record is taken out of the index as part of its append, so a checkpoint never
 * holds a dead letter the journal already resolved before its position. Thread-safe; replays
 * and purges are serialized.
 */
public final class DeadLetterQueue implements AutoCloseable {

    /** Records written together by replay-all and purge-all: one force for many... */
    static final int GROUP = 256;
    /** ...and at most about this many bytes of REPLAY records (each carries its message: up to MAX_FRAME_SIZE). */
    static final long GROUP_BYTES = 16L << 20;

    private final Journal journal;
    private final DeadLetterIndex index;
    private final RecordIds ids;
    private final Clock clock;
    private final Set<String> connectors;
    /** Serializes replays and purges (never held by a dispatcher's add); guards {@link #records}. */
    private final ReentrantLock operations = new ReentrantLock();
    private final RecordReader records;

    public DeadLetterQueue(Journal journal, DeadLetterIndex index, RecordIds ids, Clock clock, Set<String> connectors) {
        this.journal = journal;
        this.index = index;
        this.ids = ids;
        this.clock = clock;
        this.connectors = Set.copyOf(connectors);
        this.records = new RecordReader(journal.directory());
    }

    /** Records a dead letter durably (the journal forces it); only then may the dispatcher move on. */
    DeadLetter add(String connector, int attempts, String lastError, Delivery delivery) throws IOException {
        DeadLetter d = new DeadLetter(ids.next(), clock.instant(), connector, attempts, lastError, delivery.position(), delivery.message());
        journal.append(RecordType.DEAD_LETTER, d.encode(), position -> index.add(index.entryOf(position, d)));
        return d;
    }

    /** The open dead letters, oldest first. */
    public List<DeadLetterIndex.Entry> list() {
        return index.list();
    }

    public Optional<DeadLetterIndex.Entry> get(UUID id) {
        return index.byId(id);
    }

    public int size() {
        return index.size();
    }

    /** The lowest journal position an open dead letter holds (retention keeps its segment); MAX_VALUE when none. */
    public long oldestPosition() {
        return index.oldestPosition();
    }

    /** The whole dead letter, its message included, read from the journal. */
    public DeadLetter read(DeadLetterIndex.Entry entry) throws IOException {
        operations.lock();
        try {
            return readLocked(entry);
        } finally {
            operations.unlock();
        }
    }

    private DeadLetter readLocked(DeadLetterIndex.Entry entry) throws IOException {
        var record = records.read(entry.position());
        if (record.type() != RecordType.DEAD_LETTER) {
            throw new IOException("the journal holds a " + record.type() + " record where dead letter " + entry.id() + " should be");
        }
        return DeadLetter.decode(record.body());
    }

    /**
     * Replays a dead letter: to {@code connector} when given, else to every configured connector
     * the record was addressed to when {@code toAllAddressed}, else to the connector that gave up
     * on it. Returns the connectors it went to. One REPLAY record does both (resolves the dead
     * letter, carries the message), so a crash cannot leave one done without the other; replays
     * and purges are serialized, so the same dead letter is never replayed twice.
     */
    public List<String> replay(UUID id, Optional<String> connector, boolean toAllAddressed) throws IOException {
        operations.lock();
        try {
            DeadLetterIndex.Entry entry = get(id).orElseThrow(() -> new IllegalArgumentException("no open dead letter " + id));
            Prepared prepared = prepare(entry, connector, toAllAddressed);
            journal.append(RecordType.REPLAY, prepared.body(), position -> index.removeAt(entry.position()));
            return prepared.targets();
        } finally {
            operations.unlock();
        }
    }

    /**
     * Replays every open dead letter as {@link #replay} would each, oldest first, in groups of
     * {@link #GROUP} records (or {@link #GROUP_BYTES}) written together; {@code each} is told of
     * each one done, outside the lock (a caller that writes to a slow client holds up no other
     * operation). A dead letter resolved meanwhile by someone else is skipped. Returns how many.
     * A dead letter that cannot be replayed (no such connector) stops it there: the groups before
     * are done.
     */
    public int replayAll(Optional<String> connector, boolean toAllAddressed, BiConsumer<DeadLetterIndex.Entry, List<String>> each)
            throws IOException {
        int done = 0;
        List<DeadLetterIndex.Entry> all = list();
        int from = 0;
        while (from < all.size()) {
            List<DeadLetterIndex.Entry> group = new ArrayList<>();
            List<Prepared> prepared = new ArrayList<>();
            operations.lock();
            try {
                long bytes = 0;
                for (; from < all.size() && group.size() < GROUP && bytes < GROUP_BYTES; from++) {
                    DeadLetterIndex.Entry entry = all.get(from);
                    if (index.byPosition(entry.position()).isEmpty()) continue; // resolved meanwhile
                    Prepared p = prepare(entry, connector, toAllAddressed);
                    group.add(entry);
                    prepared.add(p);
                    bytes += p.body().length;
                }
                if (!group.isEmpty()) {
                    journal.appendAll(RecordType.REPLAY, prepared.stream().map(Prepared::body).toList(),
                            (i, position) -> index.removeAt(group.get(i).position()));
                }
            } finally {
                operations.unlock();
            }
            for (int i = 0; i < group.size(); i++) each.accept(group.get(i), prepared.get(i).targets());
            done += group.size();
        }
        return done;
    }

    private record Prepared(byte[] body, List<String> targets) {}

    /** The REPLAY record for one dead letter: its message read from the journal, addressed to the targets. Under the lock. */
    private Prepared prepare(DeadLetterIndex.Entry entry, Optional<String> connector, boolean toAllAddressed) throws IOException {
        DeadLetter dead = readLocked(entry);
        StoredMessage original = dead.message();
        List<String> targets = connector.map(List::of).orElse(toAllAddressed
                ? original.connectors().stream().filter(connectors::contains).toList()
                : List.of(dead.connector()));
        for (String target : targets) {
            if (!connectors.contains(target)) throw new IllegalArgumentException("no connector named " + target + " is configured");
        }
        if (targets.isEmpty()) throw new IllegalArgumentException("none of the connectors the record was addressed to is configured now");
        StoredMessage again = new StoredMessage(original.id(), original.receivedAt(), original.peer(), original.tlsIdentity(),
                original.sendingApplication(), original.sendingFacility(), original.messageType(), original.controlId(),
                original.charset(), targets, original.raw());
        Replay replay = new Replay(entry.id(), entry.position(), clock.instant(), "replayed to " + String.join(", ", targets), again);
        return new Prepared(replay.encode(), targets);
    }

    /** Purges one dead letter: it is no longer listed, its message is not delivered. */
    public void purge(UUID id) throws IOException {
        operations.lock();
        try {
            DeadLetterIndex.Entry entry = get(id).orElseThrow(() -> new IllegalArgumentException("no open dead letter " + id));
            journal.append(RecordType.DEAD_LETTER_RESOLVED, resolution(entry), position -> index.removeAt(entry.position()));
        } finally {
            operations.unlock();
        }
    }

    /** Purges every open dead letter, in groups written together. Returns how many. */
    public int purgeAll() throws IOException {
        operations.lock();
        try {
            List<DeadLetterIndex.Entry> all = list();
            for (int from = 0; from < all.size(); from += GROUP) {
                List<DeadLetterIndex.Entry> group = all.subList(from, Math.min(all.size(), from + GROUP));
                journal.appendAll(RecordType.DEAD_LETTER_RESOLVED, group.stream().map(this::resolution).toList(),
                        (i, position) -> index.removeAt(group.get(i).position()));
            }
            return all.size();
        } finally {
            operations.unlock();
        }
    }

    /** Closes the file the messages are read from. */
    @Override
    public void close() throws IOException {
        operations.lock();
        try {
            records.close();
        } finally {
            operations.unlock();
        }
    }

    private byte[] resolution(DeadLetterIndex.Entry entry) {
        return new DeadLetterResolution(entry.id(), entry.position(), clock.instant(), "purged").encode();
    }
}
