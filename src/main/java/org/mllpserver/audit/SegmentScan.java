package org.mllpserver.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Reads one segment file front to back, checking each record's length and checksum and decoding
 * it, and stops at the first record that is not whole. Reads through a window so that a scan
 * costs a read per {@link #WINDOW_BYTES}, not two per record. Does not judge the chain (seq,
 * prevHash): callers do, because what follows a break depends on who asks. Not thread-safe: one
 * scan, one thread.
 */
final class SegmentScan {

    /** Bytes read at a time: large enough that reads are not per record, small enough for a command's heap. */
    static final int WINDOW_BYTES = 1 << 20;

    /** Sees each whole record and its offset in the file; returns false to stop the scan. */
    @FunctionalInterface
    interface Visitor {
        boolean visit(AuditRecord record, long offset) throws IOException;
    }

    /** Sees each whole record's body (checksum good, not decoded) and its offset; returns false to stop the scan. */
    @FunctionalInterface
    interface BodyVisitor {
        boolean visit(ByteBuffer body, long offset) throws IOException;
    }

    /** How a scan ended. */
    sealed interface Outcome {}

    /** The file ends right after a whole record (or the visitor stopped there). */
    record Clean(long end) implements Outcome {}

    /** The record at {@code offset} is not whole; everything before it was. */
    record Bad(long offset, String reason) implements Outcome {}

    private final FileChannel channel;
    private final long size;
    private final long nonce;
    private final MessageDigest digest = Sha256.newDigest();
    private final ByteBuffer window;
    private long windowStart;
    private int windowFill;

    SegmentScan(FileChannel channel, long size, long nonce) {
        this(channel, size, nonce, WINDOW_BYTES);
    }

    /** With a window of {@code windowBytes} plus one largest record: a small one for reading a file's first record only. */
    SegmentScan(FileChannel channel, long size, long nonce, int windowBytes) {
        this.channel = channel;
        this.size = size;
        this.nonce = nonce;
        long capacity = Math.min((long) windowBytes + AuditFormat.FRAME_BYTES + AuditRecord.MAX_BODY_BYTES, Math.max(size, 0));
        this.window = ByteBuffer.allocate((int) capacity);
    }

    /** Scans from {@code from} (a record boundary: the header's end, or a record's offset), decoding each record. */
    Outcome scan(long from, Visitor visitor) throws IOException {
        return scanBodies(from, (body, offset) -> {
            AuditRecord record;
            try {
                record = AuditRecord.decode(body, digest);
            } catch (IllegalArgumentException e) {
                throw new Undecodable(offset, e.getMessage());
            }
            return visitor.visit(record, offset);
        });
    }

    /**
     * As {@link #scan}, handing over each body undecoded (only its framing and checksum checked):
     * for a reader that needs a few fields of many records. The body is valid only during the call.
     */
    Outcome scanBodies(long from, BodyVisitor visitor) throws IOException {
        long offset = from;
        while (offset < size) {
            Optional<String> problem = problemAt(offset);
            if (problem.isPresent()) return new Bad(offset, problem.get());
            int length = window.getInt(index(offset));
            try {
                if (!visitor.visit(window.slice(index(offset) + AuditFormat.FRAME_BYTES, length), offset)) {
                    return new Clean(offset + AuditFormat.FRAME_BYTES + length);
                }
            } catch (Undecodable e) {
                return new Bad(e.offset, "a record with a good checksum that does not decode (" + e.getMessage() + ")");
            }
            offset += AuditFormat.FRAME_BYTES + length;
        }
        return new Clean(offset);
    }

    /** A body whose checksum is good but whose fields are not version 1's: not written by this code. */
    static final class Undecodable extends IOException {
        final long offset;

        Undecodable(long offset, String message) {
            super(message);
            this.offset = offset;
        }
    }

    /** Why the record at {@code offset} is not whole, or empty when it is (then it is in the window). */
    private Optional<String> problemAt(long offset) throws IOException {
        if (!load(offset, AuditFormat.FRAME_BYTES)) {
            return Optional.of("the file ends " + (size - offset) + " byte(s) into a record's length and checksum");
        }
        int length = window.getInt(index(offset));
        if (length < AuditRecord.MIN_BODY_BYTES || length > AuditRecord.MAX_BODY_BYTES) {
            return Optional.of("a record length of " + length + " bytes, which no record has");
        }
        if (!load(offset, AuditFormat.FRAME_BYTES + length)) {
            return Optional.of("a record of " + length + " bytes runs past the end of the file");
        }
        if (AuditFormat.crc(window, index(offset), nonce) != window.getInt(index(offset) + 4)) {
            return Optional.of("a checksum mismatch");
        }
        return Optional.empty();
    }

    /**
     * The sequence number of a whole record after {@code badOffset} that a torn last write cannot
     * explain, if there is one. The bad record would have had sequence number {@code badSeq}; the
     * write it was part of may have reached the disk out of order (a later sector whole, an
     * earlier one not), so whole records after it with a higher sequence number from the same
     * write ({@code batch <= badSeq}) are expected. A record from a later write ({@code batch >
     * badSeq}), or one that repeats an earlier sequence number, means the bad record was written
     * and forced, and something damaged it since.
     */
    Optional<Long> unexplainedRecordAfter(long badOffset, long badSeq) throws IOException {
        int minimum = AuditFormat.FRAME_BYTES + AuditRecord.CHAIN_BYTES;
        for (long at = badOffset + 1; at + AuditFormat.FRAME_BYTES + AuditRecord.MIN_BODY_BYTES <= size; at++) {
            if (!load(at, minimum)) return Optional.empty();
            int i = index(at);
            int length = window.getInt(i);
            if (length < AuditRecord.MIN_BODY_BYTES || length > AuditRecord.MAX_BODY_BYTES) continue;
            if (window.get(i + AuditFormat.FRAME_BYTES) != AuditRecord.VERSION) continue;
            if (!load(at, AuditFormat.FRAME_BYTES + length)) continue;
            i = index(at);
            if (AuditFormat.crc(window, i, nonce) != window.getInt(i + 4)) continue;
            long seq = AuditRecord.seqOf(window, i + AuditFormat.FRAME_BYTES);
            long batch = AuditRecord.batchOf(window, i + AuditFormat.FRAME_BYTES);
            if (seq <= badSeq || batch > badSeq) return Optional.of(seq);
        }
        return Optional.empty();
    }

    /**
     * Makes {@code [offset, offset + length)} readable in the window; false when the file (as
     * far as {@code size}, or as far as it still goes) ends first.
     */
    private boolean load(long offset, int length) throws IOException {
        if (offset + length > size) return false;
        if (offset >= windowStart && offset + length <= windowStart + windowFill) return true;
        window.clear();
        window.limit((int) Math.min(window.capacity(), size - offset));
        long at = offset;
        while (window.hasRemaining()) {
            int n = channel.read(window, at);
            if (n < 0) break; // the file was cut while we read: what is there is all there is
            at += n;
        }
        windowStart = offset;
        windowFill = window.position();
        window.clear();
        return windowFill >= length;
    }

    private int index(long offset) {
        return (int) (offset - windowStart);
    }
}
