package org.mllpserver.audit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which segments retention may delete: closed ones (never the last), oldest first, while the next
 * segment's {@code segment_started} record (written when this one was closed) is older than the
 * cutoff. That record also gives the closed segment's last sequence number and hash, which the
 * {@code segment_deleted} record keeps.
 */
final class Retention {

    record Expired(Path file, AuditEvent.SegmentRef ref) {}

    private Retention() {
    }

    static List<Expired> expired(Path directory, Instant cutoff) throws IOException {
        List<Path> files = AuditFormat.segmentFiles(directory);
        List<Expired> expired = new ArrayList<>();
        for (int i = 0; i + 1 < files.size(); i++) {
            Optional<AuditRecord> next = firstRecord(files.get(i + 1));
            if (next.isEmpty() || next.get().kind() != AuditKind.SEGMENT_STARTED || !next.get().event().time().isBefore(cutoff)) break;
            long firstSeq = AuditFormat.firstSeqOf(files.get(i)).orElseThrow();
            expired.add(new Expired(files.get(i), new AuditEvent.SegmentRef(firstSeq, next.get().seq() - 1, next.get().prevHash())));
        }
        return expired;
    }

    /** The first record of a segment file, if it has a whole one. */
    static Optional<AuditRecord> firstRecord(Path file) throws IOException {
        long firstSeq = AuditFormat.firstSeqOf(file).orElseThrow();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            AuditFormat.Header header = AuditFormat.readHeader(channel, firstSeq, size);
            if (header.problem().isPresent()) return Optional.empty();
            AuditRecord[] first = new AuditRecord[1];
            new SegmentScan(channel, size, header.nonce(), 0).scan(AuditFormat.HEADER_BYTES, (record, offset) -> {
                first[0] = record;
                return false;
            });
            return Optional.ofNullable(first[0]);
        } catch (NoSuchFileException deletedMeanwhile) {
            return Optional.empty();
        }
    }
}
