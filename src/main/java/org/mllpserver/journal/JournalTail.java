package org.mllpserver.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a journal forward from a position, batch by batch, as it grows: a dispatcher's view of
 * the journal. It keeps its segment open and its place (the next batch's offset), so each call
 * reads only what is new; it never reads past the {@code end} it is given, which is the
 * journal's forced end, so everything it returns is durable.
 *
 * <p>Opening at a position inside a segment scans that segment from its start once, to find the
 * batch boundary. Damage in what it reads (which is all forced) throws
 * {@link JournalDamagedException}. Not thread-safe: one dispatcher owns one tail.
 */
public final class JournalTail implements AutoCloseable {

    private final Path directory;
    private final long from;
    private FileChannel channel;
    private long base;
    private long nonce;
    /** File offset in the open segment of the next batch to read. */
    private long offset;

    /** Records at positions {@code >= from} will be returned. */
    public JournalTail(Path directory, long from) {
        this.directory = directory;
        this.from = from;
    }

    /**
     * The next records, oldest first, from whole batches that end at or before {@code end} (the
     * journal's forced end, a batch boundary); stops after the batch that reaches
     * {@code maxRecords}. Empty when nothing new is there.
     */
    public List<JournalReader.Entry> read(long end, int maxRecords) throws IOException {
        return read(end, maxRecords, Long.MAX_VALUE);
    }

    /** As {@link #read(long, int)}, also stopping after the batch that reaches {@code maxBytes} of record bodies. */
    public List<JournalReader.Entry> read(long end, int maxRecords, long maxBytes) throws IOException {
        List<JournalReader.Entry> out = new ArrayList<>();
        if (channel == null && !open()) return out;
        long bytes = 0;
        while (out.size() < maxRecords && bytes < maxBytes && base + offset < end) {
            long limit = Math.min(channel.size(), end - base);
            if (offset >= limit) {
                if (!nextSegment()) break;
                continue;
            }
            switch (SegmentScanner.readBatch(channel, base, nonce, offset, channel.size())) {
                case SegmentScanner.Batch batch when batch.nextOffset() > limit -> {
                    return out; // it ends past the end we may read to: not forced yet
                }
                case SegmentScanner.Batch batch -> {
                    for (SegmentScanner.ScannedRecord r : batch.records()) {
                        if (r.position() < from) continue;
                        out.add(new JournalReader.Entry(r.position(), r.type(), r.body(), batch.writtenAtMillis()));
                        bytes += r.body().length;
                    }
                    offset = batch.nextOffset();
                }
                case SegmentScanner.Damaged damage -> throw new JournalDamagedException("journal segment " + segmentPath()
                        + " is damaged at position " + (base + damage.detailOffset()) + " (within its forced part): " + damage.reason());
            }
        }
        return out;
    }

    /** Opens the segment holding {@code from} (or the first one after it) and finds its batch boundary. */
    private boolean open() throws IOException {
        List<Path> files = Recovery.segmentFiles(directory);
        if (files.isEmpty()) return false;
        long first = SegmentFile.baseOf(files.getFirst()).orElseThrow();
        if (from < first) {
            throw new JournalDamagedException("the journal no longer holds position " + from + " (it starts at " + first
                    + "): the segments a reader still needed were deleted");
        }
        int index = 0;
        for (int i = 0; i < files.size(); i++) {
            if (SegmentFile.baseOf(files.get(i)).orElseThrow() <= from) index = i;
        }
        if (java.nio.file.Files.size(files.get(index)) < SegmentFile.HEADER_BYTES) return false; // being created: try again later
        openSegment(files.get(index));
        // Skip whole batches that end at or before from: the first one holding a record >= from is read by read().
        while (true) {
            long size = channel.size();
            if (offset >= size) return true;
            if (!(SegmentScanner.readBatch(channel, base, nonce, offset, size) instanceof SegmentScanner.Batch batch)) return true;
            if (base + batch.nextOffset() > from) return true;
            offset = batch.nextOffset();
        }
    }

    /** The open segment is read to its end: move to the one that starts there, if it exists yet. */
    private boolean nextSegment() throws IOException {
        long nextBase = base + offset;
        Path next = directory.resolve(SegmentFile.fileName(nextBase));
        if (!next.toFile().exists()) return false;
        channel.close();
        openSegment(next);
        return true;
    }

    private void openSegment(Path file) throws IOException {
        channel = FileChannel.open(file, StandardOpenOption.READ);
        base = SegmentFile.baseOf(file).orElseThrow();
        SegmentScanner.Header header = SegmentScanner.readHeader(channel, base, channel.size());
        if (header.problem().isPresent()) throw new JournalDamagedException("journal segment " + file + ": " + header.problem().get());
        nonce = header.nonce();
        offset = SegmentFile.HEADER_BYTES;
    }

    private Path segmentPath() {
        return directory.resolve(SegmentFile.fileName(base));
    }

    @Override
    public void close() throws IOException {
        if (channel != null) channel.close();
    }
}
