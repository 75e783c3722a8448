package org.mllpserver.journal;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal's part of a checkpoint: {@code position}, the end of the journal when the indexes
 * were saved (a batch boundary), and the segments then, oldest first (the last is the one
 * {@code position} is in, with its size at that moment). Opening from it reads nothing before
 * {@code position}, after checking that the segment files before it are those it lists (same
 * first position, nonce and size).
 */
public record JournalCheckpoint(long position, List<Segment> segments) {

    private static final int VERSION = 1;
    /** A journal of a million segments would be a typo or damage. */
    private static final int MAX_SEGMENTS = 1_000_000;

    /** One segment as it was at the checkpoint. */
    public record Segment(long base, long nonce, long size, long newestBatchMillis) {
        long end() {
            return base + size;
        }
    }

    public JournalCheckpoint {
        segments = List.copyOf(segments);
        if (segments.isEmpty()) throw new IllegalArgumentException("a checkpoint lists at least the segment its position is in");
        if (position != segments.getLast().end()) throw new IllegalArgumentException("the position is the last segment's end");
    }

    public void write(DataOutput out) throws IOException {
        out.writeInt(VERSION);
        out.writeLong(position);
        out.writeInt(segments.size());
        for (Segment s : segments) {
            out.writeLong(s.base());
            out.writeLong(s.nonce());
            out.writeLong(s.size());
            out.writeLong(s.newestBatchMillis());
        }
    }

    /** Reads what {@link #write} wrote; throws IOException when it is not that. */
    public static JournalCheckpoint read(DataInput in) throws IOException {
        int version = in.readInt();
        if (version != VERSION) throw new IOException("journal checkpoint version " + version + " is not known");
        long position = in.readLong();
        int count = in.readInt();
        if (count < 1 || count > MAX_SEGMENTS) throw new IOException("a journal checkpoint lists " + count + " segments");
        List<Segment> segments = new ArrayList<>(count);
        for (int i = 0; i < count; i++) segments.add(new Segment(in.readLong(), in.readLong(), in.readLong(), in.readLong()));
        try {
            return new JournalCheckpoint(position, segments);
        } catch (IllegalArgumentException e) {
            throw new IOException("a journal checkpoint that does not hold together: " + e.getMessage());
        }
    }
}
