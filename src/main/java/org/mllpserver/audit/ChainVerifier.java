package org.mllpserver.audit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One pass of {@code audit verify} over every segment, oldest first: each record's framing and
 * checksum, its sequence number (one more than the record before, across segments; a segment's
 * name is its first record's), its previous-hash (the hash of the record before), a
 * {@code segment_started} record first in every segment and nowhere else; at the end, where the
 * chain begins (sequence number 0 with no predecessor, or right after segments that a
 * {@code segment_deleted} record, with matching last hash, says retention deleted). Stops at the
 * first break. Read-only; one use.
 */
final class ChainVerifier {

    private final List<Path> files;
    private long expectedSeq = -1;
    private Sha256 prevHash;          // null until the first record
    private long firstRecordSeq = -1;
    private Sha256 firstPrevHash;
    private long records;
    private final Map<Long, Set<Sha256>> deletedThrough = new HashMap<>(); // segment_deleted: last seq -> last hashes
    private final List<String> notes = new ArrayList<>();

    /** A break, thrown out of a scan's visitor. */
    private static final class BreakFound extends IOException {
        final Verification.Broken broken;

        BreakFound(Verification.Broken broken) {
            super(broken.summary());
            this.broken = broken;
        }
    }

    ChainVerifier(List<Path> files) {
        this.files = files;
    }

    Verification run() throws IOException {
        try {
            for (int i = 0; i < files.size(); i++) segment(files.get(i), i == files.size() - 1);
            beginning();
        } catch (BreakFound found) {
            return found.broken;
        }
        Optional<AuditLog.Head> head = prevHash == null ? Optional.empty() : Optional.of(new AuditLog.Head(expectedSeq - 1, prevHash));
        return new Verification.Intact(records, Math.max(firstRecordSeq, 0), head, List.copyOf(notes));
    }

    private void segment(Path file, boolean last) throws IOException {
        long firstSeq = AuditFormat.firstSeqOf(file).orElseThrow();
        if (expectedSeq < 0) expectedSeq = firstSeq;
        if (firstSeq != expectedSeq) throw new BreakFound(new Verification.Broken(file, expectedSeq, firstSeq > expectedSeq
                ? "records " + expectedSeq + " to " + (firstSeq - 1) + " are missing: the segment before ends at " + (expectedSeq - 1)
                  + " and this one begins at " + firstSeq + " (a segment file deleted?)"
                : "this segment begins at " + firstSeq + ", which the segment before already holds (a file from elsewhere?)", records));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            AuditFormat.Header header = AuditFormat.readHeader(channel, firstSeq, size);
            if (header.problem().isPresent()) {
                if (last && size <= AuditFormat.HEADER_BYTES) {
                    notes.add("the last segment " + file.getFileName() + " is being started (or a crash cut its start short): no record in it yet");
                    return;
                }
                throw broken(file, firstSeq, "its header is wrong: " + header.problem().get());
            }
            long before = records;
            SegmentScan scan = new SegmentScan(channel, size, header.nonce());
            SegmentScan.Outcome outcome = scan.scan(AuditFormat.HEADER_BYTES, (record, offset) -> accept(file, record, records == before));
            if (outcome instanceof SegmentScan.Bad bad) badRecord(file, last, scan, bad);
            if (records == before && !last) throw broken(file, firstSeq, "a closed segment without a record");
        }
    }

    private boolean accept(Path file, AuditRecord record, boolean firstInSegment) throws BreakFound {
        if (record.seq() != expectedSeq) {
            throw broken(file, expectedSeq, "the record here has sequence number " + record.seq()
                    + " (records deleted, swapped or copied in)");
        }
        if (firstInSegment != (record.kind() == AuditKind.SEGMENT_STARTED)) {
            throw broken(file, record.seq(), firstInSegment ? "the segment begins with a " + record.kind().externalName()
                    + " record, not segment_started" : "a segment_started record inside a segment (copied in?)");
        }
        if (prevHash == null) {
            firstRecordSeq = record.seq();
            firstPrevHash = record.prevHash();
        } else if (!record.prevHash().equals(prevHash)) {
            throw broken(file, record.seq(), "it names " + record.prevHash().hex() + " as the record before it, but record "
                    + (record.seq() - 1) + " hashes to " + prevHash.hex() + " (a record changed, or records moved)");
        }
        collect(record);
        prevHash = record.hash();
        expectedSeq++;
        records++;
        return true;
    }

    private void collect(AuditRecord record) {
        AuditEvent e = record.event();
        if (e.kind() == AuditKind.SEGMENT_DELETED && e.segment().isPresent()) {
            deletedThrough.computeIfAbsent(e.segment().get().lastSeq(), k -> new HashSet<>()).add(e.segment().get().lastHash());
        }
        if (e.kind() == AuditKind.TAIL_REPAIRED) notes.add("torn tail repaired at start (record " + record.seq() + ", " + e.time() + "): " + e.detail());
    }

    /** A record that is not whole: a torn last write at the very end; damage anywhere else. */
    private void badRecord(Path file, boolean last, SegmentScan scan, SegmentScan.Bad bad) throws IOException {
        String where = "at offset " + bad.offset() + ", " + bad.reason();
        if (!last) throw broken(file, expectedSeq, where + " (the segment was cut short, or changed)");
        Optional<Long> later = scan.unexplainedRecordAfter(bad.offset(), expectedSeq);
        if (later.isPresent()) {
            throw broken(file, expectedSeq, where + ", and a record written after it (sequence number " + later.get()
                    + ") follows: damage or a change, not a torn write");
        }
        notes.add("the last segment " + file.getFileName() + " ends in an incomplete write " + where + " (sequence number "
                + expectedSeq + " on): a write in progress, or one a crash cut short, which the server truncates when it starts;"
                + " not counted");
    }

    /** Where the chain begins must be explained: sequence number 0, or segments retention deleted. */
    private void beginning() throws BreakFound {
        if (prevHash == null) return; // no record at all
        Path first = files.getFirst();
        if (firstRecordSeq == 0) {
            if (!firstPrevHash.equals(Sha256.ZERO)) throw broken(first, 0, "the first record names a record before it, but none can precede 0");
            return;
        }
        Set<Sha256> deleted = deletedThrough.getOrDefault(firstRecordSeq - 1, Set.of());
        if (!deleted.contains(firstPrevHash)) {
            throw broken(first, firstRecordSeq, "the chain begins here, but no segment_deleted record accounts for records 0 to "
                    + (firstRecordSeq - 1) + (deleted.isEmpty() ? "" : " with this last hash") + ": segments removed by hand?");
        }
        notes.add("records 0 to " + (firstRecordSeq - 1) + " were deleted by retention (recorded by segment_deleted); the chain is"
                + " verified from " + firstRecordSeq + ", whose predecessor hash matches that record");
    }

    private BreakFound broken(Path file, long seq, String problem) {
        return new BreakFound(new Verification.Broken(file, seq, problem, records));
    }
}
