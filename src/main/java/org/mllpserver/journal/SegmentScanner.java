package org.mllpserver.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Reads one segment file batch by batch, checking every record, and hands over only whole
 * batches. Used by recovery (which decides what a damaged batch means) and by read-only readers.
 */
final class SegmentScanner {

    /** A BATCH marker: header + 16-byte body (records length, written-at millis). */
    static final int MARKER_BYTES = RecordFormat.HEADER_BYTES + 16;
    private static final int MARKER_LENGTH_FIELD = 1 + 16;
    /** Chunk size for the search for a batch marker after damage. */
    private static final int SEARCH_CHUNK = 1 << 20;

    /** A record as read back: its position, type and body. */
    record ScannedRecord(long position, RecordType type, byte[] body) {}

    /** Receives each whole batch, in file order. */
    @FunctionalInterface
    interface BatchConsumer {
        void accept(List<ScannedRecord> records, long writtenAtMillis) throws IOException;
    }

    sealed interface Outcome permits Clean, Damaged {}

    /** Every batch is whole; the file has {@code size} bytes. */
    record Clean(long size, long newestBatchMillis) implements Outcome {}

    /**
     * The batch starting at file offset {@code batchOffset} is not whole: {@code detailOffset} is
     * where the first bad byte of it was found, {@code reason} what was wrong.
     */
    record Damaged(long batchOffset, long detailOffset, String reason, long newestBatchMillis) implements Outcome, BatchRead {}

    private SegmentScanner() {
    }

    /** What the header says: its nonce, or what is wrong with it. */
    record Header(long nonce, Optional<String> problem) {}

    /** Reads the header and checks it against the base the file name declares. */
    static Header readHeader(FileChannel channel, long base, long fileSize) throws IOException {
        if (fileSize < SegmentFile.HEADER_BYTES) {
            return new Header(0, Optional.of("the file is shorter than its " + SegmentFile.HEADER_BYTES + "-byte header"));
        }
        ByteBuffer header = ByteBuffer.allocate(SegmentFile.HEADER_BYTES);
        SegmentFile.readFully(channel, header, 0);
        header.flip();
        byte[] magic = new byte[SegmentFile.MAGIC.length];
        header.get(magic);
        if (!Arrays.equals(magic, SegmentFile.MAGIC)) return new Header(0, Optional.of("the header does not start with MLLPJRN1"));
        long declared = header.getLong();
        if (declared != base) {
            return new Header(0, Optional.of("the header says first position " + declared + ", the file name " + base));
        }
        return new Header(header.getLong(), Optional.empty());
    }

    static Outcome scan(FileChannel channel, long base, long nonce, long fileSize, BatchConsumer consumer) throws IOException {
        return scan(channel, base, nonce, fileSize, SegmentFile.HEADER_BYTES, 0, consumer);
    }

    /** As above, from the batch boundary at {@code fromOffset}, the batches before it having been written at up to {@code newestBefore}. */
    static Outcome scan(FileChannel channel, long base, long nonce, long fileSize, long fromOffset, long newestBefore,
                        BatchConsumer consumer) throws IOException {
        long offset = fromOffset;
        long newest = newestBefore;
        while (offset < fileSize) {
            switch (readBatch(channel, base, nonce, offset, fileSize)) {
                case Batch batch -> {
                    consumer.accept(batch.records(), batch.writtenAtMillis());
                    newest = batch.writtenAtMillis();
                    offset = batch.nextOffset();
                }
                case Damaged damage -> {
                    return new Damaged(damage.batchOffset(), damage.detailOffset(), damage.reason(), newest);
                }
            }
        }
        return new Clean(offset, newest);
    }

    /** One whole batch read at {@code offset}, and where the next one starts. */
    record Batch(List<ScannedRecord> records, long writtenAtMillis, long nextOffset) implements BatchRead {}

    sealed interface BatchRead permits Batch, Damaged {}

    /**
     * Reads and checks the batch at {@code offset} (a batch boundary) of a segment holding
     * {@code fileSize} bytes: a {@link Batch}, or {@link Damaged} (its newestBatchMillis is 0)
     * when it is not whole or not intact.
     */
    static BatchRead readBatch(FileChannel channel, long base, long nonce, long offset, long fileSize) throws IOException {
        if (fileSize - offset < MARKER_BYTES) return new Damaged(offset, offset, "the file ends inside a batch marker", 0);
        ByteBuffer marker = ByteBuffer.allocate(MARKER_BYTES);
        SegmentFile.readFully(channel, marker, offset);
        String markerProblem = markerProblem(marker, nonce);
        if (markerProblem != null) return new Damaged(offset, offset, markerProblem, 0);
        long recordsLength = marker.getLong(RecordFormat.HEADER_BYTES);
        long writtenAt = marker.getLong(RecordFormat.HEADER_BYTES + 8);
        long recordsStart = offset + MARKER_BYTES;
        if (recordsLength < 0 || recordsLength > fileSize - recordsStart || recordsLength > Integer.MAX_VALUE - 64) {
            return new Damaged(offset, offset, "the batch declares " + recordsLength + " bytes, more than the file holds", 0);
        }
        ByteBuffer batch = read(channel, ByteBuffer.allocate(0), recordsStart, (int) recordsLength);
        List<ScannedRecord> records = new ArrayList<>();
        String problem = records(batch, base + recordsStart, records);
        if (problem != null) {
            long at = records.isEmpty() ? recordsStart : records.getLast().position() - base
                    + RecordFormat.size(records.getLast().body().length);
            return new Damaged(offset, at, problem, 0);
        }
        return new Batch(records, writtenAt, recordsStart + recordsLength);
    }

    /**
     * True when a valid batch marker starts anywhere after {@code fromOffset}: damage is then not
     * a torn tail. Markers carry the segment's nonce in their checksum, so message bytes cannot
     * pass for one.
     */
    static boolean hasBatchAfter(FileChannel channel, long fromOffset, long fileSize, long nonce) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(SEARCH_CHUNK + MARKER_BYTES);
        for (long start = fromOffset + 1; start + MARKER_BYTES <= fileSize; start += SEARCH_CHUNK) {
            chunk.clear();
            chunk.limit((int) Math.min(chunk.capacity(), fileSize - start));
            SegmentFile.readFully(channel, chunk, start);
            for (int i = 0; i + MARKER_BYTES <= chunk.limit() && i < SEARCH_CHUNK; i++) {
                if (chunk.getInt(i) != MARKER_LENGTH_FIELD || chunk.get(i + 8) != RecordType.BATCH.code()) continue;
                if (markerProblem(chunk.slice(i, MARKER_BYTES), nonce) == null) return true;
            }
        }
        return false;
    }

    /** True when every byte from {@code fromOffset} to the end of the file is zero. */
    static boolean onlyZerosFrom(FileChannel channel, long fromOffset, long fileSize) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(SEARCH_CHUNK);
        for (long at = fromOffset; at < fileSize; at += SEARCH_CHUNK) {
            chunk.clear().limit((int) Math.min(SEARCH_CHUNK, fileSize - at));
            SegmentFile.readFully(channel, chunk, at);
            for (int i = 0; i < chunk.limit(); i++) if (chunk.get(i) != 0) return false;
        }
        return true;
    }

    private static String markerProblem(ByteBuffer marker, long nonce) {
        if (marker.getInt(0) != MARKER_LENGTH_FIELD || marker.get(8) != RecordType.BATCH.code()) return "no batch marker where a batch must start";
        if (RecordFormat.markerCrc(marker, 0, nonce) != marker.getInt(4)) return "the batch marker's checksum does not match";
        return null;
    }

    /** Splits a batch into records, checking each; returns what is wrong, or null. */
    private static String records(ByteBuffer batch, long firstPosition, List<ScannedRecord> out) {
        int at = 0;
        int end = batch.limit();
        while (at < end) {
            if (end - at < RecordFormat.HEADER_BYTES) return "a record header is cut off by the end of its batch";
            int length = batch.getInt(at);
            if (length < 1 || length > RecordFormat.MAX_LENGTH || length > end - at - 8) {
                return "a record declares length " + length + ", which does not fit its batch";
            }
            if (RecordFormat.crc(batch, at, length) != batch.getInt(at + 4)) return "a record's checksum does not match";
            RecordType type = RecordType.of(batch.get(at + 8));
            if (type == null) return "unknown record type " + batch.get(at + 8) + " (written by a newer version?)";
            if (type == RecordType.BATCH) return "a batch marker inside a batch";
            byte[] body = new byte[length - 1];
            batch.get(at + 9, body);
            out.add(new ScannedRecord(firstPosition + at, type, body));
            at += 8 + length;
        }
        return null;
    }

    private static ByteBuffer read(FileChannel channel, ByteBuffer reuse, long offset, int length) throws IOException {
        ByteBuffer buffer = reuse.capacity() >= length ? reuse : ByteBuffer.allocate(length);
        buffer.clear().limit(length);
        SegmentFile.readFully(channel, buffer, offset);
        return buffer.flip();
    }
}
