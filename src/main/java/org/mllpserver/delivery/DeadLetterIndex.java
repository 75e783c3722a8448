package org.mllpserver.delivery;

import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.DeadLetterReference;
import org.mllpserver.journal.RecordVisitor;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The open dead letters, in memory by what {@code dlq list} and the admin API show; the message
 * itself stays in the journal, in the DEAD_LETTER record at {@link Entry#position()}, and is read
 * when shown or replayed. A weekend of a feed whose downstream answers 401 is a million dead
 * letters: they must not take their messages' gigabytes of heap, nor a start-up that loads them.
 *
 * <p>Layout: entries sorted by the DEAD_LETTER record's position (a primitive array of
 * positions, binary searched, beside the entries; a resolved one leaves a gap until the arrays
 * are compacted). Connector names, last errors and message types repeat, so each distinct value
 * is kept once (up to {@link #POOLED_STRINGS} of them). Measured: about 175 bytes per open dead
 * letter (BENCHMARKS.md); a last error that is not pooled costs its own length on top.
 *
 * <p>Taking a record in twice changes nothing (an entry already at a position is kept; a removal
 * of one not here is ignored), so a start-up scan from a checkpoint may see records the
 * checkpoint already holds. Thread-safe.
 */
public final class DeadLetterIndex {

    /** Distinct connector names, last errors and message types kept once; beyond this each entry keeps its own. */
    static final int POOLED_STRINGS = 1024;
    /** Checkpoint section format. */
    private static final int VERSION = 1;

    /** One open dead letter, without its message. */
    public static final class Entry {
        private final long position;
        private final long idHigh;
        private final long idLow;
        private final long atMillis;
        private final long recordPosition;
        private final long recordIdHigh;
        private final long recordIdLow;
        private final int attempts;
        private final String connector;
        private final String lastError;
        private final String messageType;
        private final String controlId;

        Entry(long position, UUID id, long atMillis, String connector, int attempts, String lastError, long recordPosition,
              UUID recordId, String messageType, String controlId) {
            this.position = position;
            this.idHigh = id.getMostSignificantBits();
            this.idLow = id.getLeastSignificantBits();
            this.atMillis = atMillis;
            this.connector = connector;
            this.attempts = attempts;
            this.lastError = lastError;
            this.recordPosition = recordPosition;
            this.recordIdHigh = recordId.getMostSignificantBits();
            this.recordIdLow = recordId.getLeastSignificantBits();
            this.messageType = messageType;
            this.controlId = controlId;
        }

        /** The DEAD_LETTER record's position: where its message is read from. */
        public long position() { return position; }
        public UUID id() { return new UUID(idHigh, idLow); }
        public Instant at() { return Instant.ofEpochMilli(atMillis); }
        public String connector() { return connector; }
        public int attempts() { return attempts; }
        public String lastError() { return lastError; }
        /** Where the record the connector gave up on was in the journal. */
        public long recordPosition() { return recordPosition; }
        public UUID recordId() { return new UUID(recordIdHigh, recordIdLow); }
        /** MSH-9 as sent. */
        public String messageType() { return messageType; }
        /** MSH-10 as sent. */
        public String controlId() { return controlId; }

        boolean hasId(UUID id) {
            return idHigh == id.getMostSignificantBits() && idLow == id.getLeastSignificantBits();
        }
    }

    private long[] positions = new long[16];
    private Entry[] entries = new Entry[16]; // null: resolved, not compacted away yet
    private int used;                        // slots used, gaps included
    private int live;
    private int head;                        // no live entry before this slot
    private final Map<String, String> pool = new HashMap<>();

    /** An entry for a dead letter just written at {@code position}. */
    Entry entryOf(long position, DeadLetter d) {
        return new Entry(position, d.id(), d.at().toEpochMilli(), pooled(d.connector()), d.attempts(), pooled(d.lastError()),
                d.recordPosition(), d.message().id(), pooled(d.message().messageType()), d.message().controlId());
    }

    /** Takes records in as the journal is read at start (from the checkpoint's position, or its beginning). */
    public RecordVisitor visitor() {
        return (position, type, body) -> {
            switch (type) {
                case DEAD_LETTER -> add(entryOf(position, DeadLetter.decode(body)));
                case REPLAY, DEAD_LETTER_RESOLVED -> resolve(DeadLetterReference.of(body));
                default -> { }
            }
        };
    }

    /** Resolves by position, or by id for a record written before positions were recorded. */
    private void resolve(DeadLetterReference reference) {
        if (reference.position() >= 0) removeAt(reference.position());
        else removeById(reference.id());
    }

    synchronized void add(Entry entry) {
        int at = search(entry.position());
        if (at >= 0) return; // taken in already (a scan from a checkpoint that holds it)
        int insert = -at - 1;
        if (used == positions.length) grow();
        System.arraycopy(positions, insert, positions, insert + 1, used - insert);
        System.arraycopy(entries, insert, entries, insert + 1, used - insert);
        positions[insert] = entry.position();
        entries[insert] = entry;
        used++;
        live++;
        if (insert < head) head = insert;
    }

    /** Removes the dead letter whose DEAD_LETTER record is at {@code position}; false when none is open there. */
    synchronized boolean removeAt(long position) {
        int at = search(position);
        if (at < 0 || entries[at] == null) return false;
        entries[at] = null;
        live--;
        compactIfSparse();
        return true;
    }

    private synchronized void removeById(UUID id) {
        for (int i = head; i < used; i++) {
            if (entries[i] != null && entries[i].hasId(id)) {
                removeAt(positions[i]);
                return;
            }
        }
    }

    /** The open dead letter whose DEAD_LETTER record is at {@code position}. */
    public synchronized Optional<Entry> byPosition(long position) {
        int at = search(position);
        return at < 0 ? Optional.empty() : Optional.ofNullable(entries[at]);
    }

    public synchronized Optional<Entry> byId(UUID id) {
        for (int i = head; i < used; i++) if (entries[i] != null && entries[i].hasId(id)) return Optional.of(entries[i]);
        return Optional.empty();
    }

    /** The open dead letters, oldest first. */
    public synchronized List<Entry> list() {
        List<Entry> all = new ArrayList<>(live);
        for (int i = head; i < used; i++) if (entries[i] != null) all.add(entries[i]);
        return all;
    }

    public synchronized int size() {
        return live;
    }

    /** Open dead letters of {@code connector} (a walk over them all: for metrics, not per message). */
    public synchronized long openFor(String connector) {
        long n = 0;
        for (int i = head; i < used; i++) if (entries[i] != null && entries[i].connector().equals(connector)) n++;
        return n;
    }

    /** The lowest journal position an open dead letter holds (retention keeps its segment); MAX_VALUE when none. */
    public synchronized long oldestPosition() {
        while (head < used && entries[head] == null) head++;
        return head < used ? positions[head] : Long.MAX_VALUE;
    }

    private int search(long position) {
        return Arrays.binarySearch(positions, 0, used, position);
    }

    private void grow() {
        int capacity = positions.length * 2;
        positions = Arrays.copyOf(positions, capacity);
        entries = Arrays.copyOf(entries, capacity);
    }

    /** Drops the gaps once they outnumber the live entries (and are many): amortised, the index stays about live-sized. */
    private void compactIfSparse() {
        int gaps = used - live;
        if (gaps < 1024 || gaps < live) return;
        int to = 0;
        for (int i = 0; i < used; i++) {
            if (entries[i] == null) continue;
            positions[to] = positions[i];
            entries[to] = entries[i];
            to++;
        }
        Arrays.fill(entries, to, used, null);
        used = to;
        head = 0;
        int capacity = Math.max(16, Integer.highestOneBit(Math.max(1, used)) * 2);
        if (capacity < positions.length) {
            positions = Arrays.copyOf(positions, capacity);
            entries = Arrays.copyOf(entries, capacity);
        }
    }

    private String pooled(String value) {
        synchronized (pool) {
            String kept = pool.get(value);
            if (kept != null) return kept;
            if (pool.size() < POOLED_STRINGS) pool.put(value, value);
            return value;
        }
    }

    /** Writes every open dead letter for a checkpoint. */
    public void save(DataOutput out) throws IOException {
        List<Entry> all = list();
        out.writeInt(VERSION);
        out.writeInt(all.size());
        for (Entry e : all) {
            out.writeLong(e.position);
            out.writeLong(e.idHigh);
            out.writeLong(e.idLow);
            out.writeLong(e.atMillis);
            writeString(out, e.connector);
            out.writeInt(e.attempts);
            writeString(out, e.lastError);
            out.writeLong(e.recordPosition);
            out.writeLong(e.recordIdHigh);
            out.writeLong(e.recordIdLow);
            writeString(out, e.messageType);
            writeString(out, e.controlId);
        }
    }

    /** Takes in what {@link #save} wrote; throws IOException when it is not that. */
    public void load(DataInput in) throws IOException {
        int version = in.readInt();
        if (version != VERSION) throw new IOException("dead letter checkpoint version " + version + " is not known");
        int count = in.readInt();
        if (count < 0) throw new IOException("a dead letter checkpoint holds " + count + " entries");
        for (int i = 0; i < count; i++) {
            long position = in.readLong();
            UUID id = new UUID(in.readLong(), in.readLong());
            long at = in.readLong();
            String connector = pooled(readString(in));
            int attempts = in.readInt();
            String lastError = pooled(readString(in));
            long recordPosition = in.readLong();
            UUID recordId = new UUID(in.readLong(), in.readLong());
            add(new Entry(position, id, at, connector, attempts, lastError, recordPosition, recordId, pooled(readString(in)),
                    readString(in)));
        }
    }

    /** Empties the index (a checkpoint turned out not to fit the journal, which is then read whole). */
    public synchronized void clear() {
        positions = new long[16];
        entries = new Entry[16];
        used = 0;
        live = 0;
        head = 0;
    }

    private static void writeString(DataOutput out, String s) throws IOException {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readString(DataInput in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > (1 << 20)) throw new IOException("a string of " + length + " bytes in a checkpoint");
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
