package org.mllpserver.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * Reads a journal without changing it, while a server may be appending to it: the inspection
 * commands and the tests use it. Only whole batches are read; the tail of the last segment that
 * is not whole yet (a write in progress, or one a crash cut short and recovery has not truncated
 * yet) is left out, without a verdict on it. Damage anywhere else throws
 * {@link JournalDamagedException}. A record of the last whole batch may not be forced yet when it
 * is read (delivery, in a later issue, reads only up to the journal's forced end).
 */
public final class JournalReader {

    /** One record, with the time its batch was written. */
    public record Entry(long position, RecordType type, byte[] body, long writtenAtMillis) {}

    @FunctionalInterface
    public interface EntryConsumer {
        void accept(Entry entry) throws IOException;
    }

    private JournalReader() {
    }

    /** Every record at or after {@code fromPosition}, oldest first. */
    public static void read(Path directory, long fromPosition, EntryConsumer consumer) throws IOException {
        List<Path> files = Recovery.segmentFiles(directory);
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            long base = SegmentFile.baseOf(file).orElseThrow();
            boolean last = i == files.size() - 1;
            long nextBase = last ? Long.MAX_VALUE : SegmentFile.baseOf(files.get(i + 1)).orElseThrow();
            if (nextBase <= fromPosition) continue;
            readSegment(file, base, last, fromPosition, consumer);
        }
    }

    /** The record with this id (MESSAGE or REFUSED_FRAME), if the journal still holds it. */
    public static Optional<Entry> find(Path directory, java.util.UUID id) throws IOException {
        Entry[] found = new Entry[1];
        read(directory, 0, entry -> {
            if (found[0] == null && idOf(entry).filter(id::equals).isPresent()) found[0] = entry;
        });
        return Optional.ofNullable(found[0]);
    }

    /** The record id of a MESSAGE or REFUSED_FRAME body (both start with version, id). */
    public static Optional<java.util.UUID> idOf(Entry entry) {
        if (entry.type() != RecordType.MESSAGE && entry.type() != RecordType.REFUSED_FRAME) return Optional.empty();
        Body.Reader in = new Body.Reader(entry.body());
        in.version();
        return Optional.of(in.uuid());
    }

    private static void readSegment(Path file, long base, boolean last, long fromPosition, EntryConsumer consumer) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            SegmentScanner.Header header = SegmentScanner.readHeader(channel, base, size);
            if (header.problem().isPresent()) {
                if (last && size <= SegmentFile.HEADER_BYTES) return; // being created
                throw new JournalDamagedException("journal segment " + file + ": " + header.problem().get());
            }
            SegmentScanner.Outcome outcome = SegmentScanner.scan(channel, base, header.nonce(), size, (records, writtenAt) -> {
                for (SegmentScanner.ScannedRecord r : records) {
                    if (r.position() >= fromPosition) consumer.accept(new Entry(r.position(), r.type(), r.body(), writtenAt));
                }
            });
            // The last segment is being written: what follows its last whole batch is a write in
            // progress, preallocated zeros, or a tail recovery will judge. A reader only stops there.
            if (outcome instanceof SegmentScanner.Damaged damage && !last) {
                throw new JournalDamagedException("journal segment " + file + " is damaged at position "
                        + (base + damage.detailOffset()) + ": " + damage.reason());
            }
        } catch (NoSuchFileException deletedMeanwhile) {
            // Retention removed it while we were listing: nothing of it is left to read.
        } catch (java.io.EOFException cutMeanwhile) {
            if (!last) throw cutMeanwhile;
            // The writer cut the last segment's preallocated zeros while we read: that is its end.
        }
    }
}
