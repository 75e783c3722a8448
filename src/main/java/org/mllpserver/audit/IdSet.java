package org.mllpserver.audit;

import java.util.UUID;

/**
 * A set of record ids in two primitive arrays (16 bytes an id at full load, against about 80 for
 * a HashSet of UUIDs): recovery holds the ids of every frame the newest audit segments record,
 * which may be hundreds of thousands. Open addressing with linear probing, kept at most half full.
 * Not thread-safe.
 */
final class IdSet {

    /** Slots to begin with (a power of two): 17 KiB, grown by doubling. */
    private static final int INITIAL_SLOTS = 1024;

    private long[] high = new long[INITIAL_SLOTS];
    private long[] low = new long[INITIAL_SLOTS];
    private boolean[] used = new boolean[INITIAL_SLOTS];
    private int size;

    void add(UUID id) {
        if (2 * (size + 1) > used.length) grow();
        if (insert(high, low, used, id.getMostSignificantBits(), id.getLeastSignificantBits())) size++;
    }

    boolean contains(UUID id) {
        long h = id.getMostSignificantBits();
        long l = id.getLeastSignificantBits();
        int mask = used.length - 1;
        for (int i = slot(h, l, mask); used[i]; i = (i + 1) & mask) {
            if (high[i] == h && low[i] == l) return true;
        }
        return false;
    }

    int size() {
        return size;
    }

    private static boolean insert(long[] high, long[] low, boolean[] used, long h, long l) {
        int mask = used.length - 1;
        int i = slot(h, l, mask);
        while (used[i]) {
            if (high[i] == h && low[i] == l) return false;
            i = (i + 1) & mask;
        }
        used[i] = true;
        high[i] = h;
        low[i] = l;
        return true;
    }

    private void grow() {
        int capacity = used.length * 2;
        long[] h = new long[capacity];
        long[] l = new long[capacity];
        boolean[] u = new boolean[capacity];
        for (int i = 0; i < used.length; i++) if (used[i]) insert(h, l, u, high[i], low[i]);
        high = h;
        low = l;
        used = u;
    }

    private static int slot(long h, long l, int mask) {
        long mixed = (h ^ Long.rotateLeft(l, 32)) * 0x9E3779B97F4A7C15L; // the random bits of a UUIDv7 are in both halves
        return (int) (mixed >>> 32) & mask;
    }
}
