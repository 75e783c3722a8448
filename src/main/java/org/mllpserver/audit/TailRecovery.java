package org.mllpserver.audit;

import org.mllpserver.journal.ChannelFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static java.lang.System.Logger.Level.WARNING;

/**
 * Opening the audit for writing: finds the last segment's last whole record (the head), repairs a
 * torn last write, and refuses damage, as the table in {@link AuditLog}'s javadoc says. Reads only
 * the last segment: the older ones are {@code audit verify}'s to judge.
 */
final class TailRecovery {

    private static final System.Logger LOG = System.getLogger(TailRecovery.class.getName());

    private TailRecovery() {
    }

    /**
     * Where the writer goes on: the last segment (its size is where the next write goes), the next
     * sequence number, the hash of the last record, and what was repaired, if anything.
     */
    /**
     * @param sealedAtJournalEnd when the last record is the seal of a clean close that came after
     *                           the journal's: the journal's end then
     */
    record Tail(Path file, long firstSeq, long nonce, long size, long nextSeq, Sha256 lastHash, Optional<String> repaired,
                Optional<Long> sealedAtJournalEnd) {}

    static Tail run(Path directory, ChannelFactory channels, LongSupplier nonces) throws IOException {
        List<Path> files = AuditFormat.segmentFiles(directory);
        if (files.isEmpty()) return create(directory, 0, channels, nonces.getAsLong(), Optional.empty());
        Path last = files.getLast();
        long firstSeq = AuditFormat.firstSeqOf(last).orElseThrow();
        Tail tail = judge(last, firstSeq, true, channels);
        if (tail.nextSeq() > firstSeq) return tail;
        // The last segment holds no record: a crash while it was being started. Its header is
        // written again (nothing in it is lost) and the writer starts it with the chain's next
        // record, which follows the segment before. Not deleted: a deletion is one more durable
        // step to get right, and the journal's recovery does the same.
        if (files.size() == 1) return create(directory, firstSeq, channels, nonces.getAsLong(), tail.repaired());
        Path previous = files.get(files.size() - 2);
        Tail before = judge(previous, AuditFormat.firstSeqOf(previous).orElseThrow(), false, channels);
        if (before.nextSeq() != firstSeq) {
            throw damaged(last, firstSeq, "it is named for sequence number " + firstSeq + ", but the segment before ends at "
                    + (before.nextSeq() - 1));
        }
        Tail started = create(directory, firstSeq, channels, nonces.getAsLong(), tail.repaired());
        LOG.log(WARNING, "audit {0}: wrote the header of segment {1} again, which a crash left without a record", directory,
                last.getFileName());
        return new Tail(started.file(), firstSeq, started.nonce(), started.size(), firstSeq, before.lastHash(), tail.repaired(), Optional.empty());
    }

    /** The tail of this segment (after a repair, if any); its nextSeq is its firstSeq when it holds no whole record. */
    private static Tail judge(Path file, long firstSeq, boolean mayBeTorn, ChannelFactory channels) throws IOException {
        try (FileChannel channel = channels.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            AuditFormat.Header header = AuditFormat.readHeader(channel, firstSeq, size);
            if (header.problem().isPresent()) {
                if (mayBeTorn && size <= AuditFormat.HEADER_BYTES) { // a crash while it was created
                    return new Tail(file, firstSeq, 0, size, firstSeq, Sha256.ZERO, Optional.empty(), Optional.empty());
                }
                throw damaged(file, firstSeq, header.problem().get());
            }
            ChainCheck chain = new ChainCheck(file, firstSeq);  // lastHash stays ZERO while it holds no record
            SegmentScan scan = new SegmentScan(channel, size, header.nonce());
            SegmentScan.Outcome outcome = scan.scan(AuditFormat.HEADER_BYTES, chain::accept);
            Optional<String> repaired = Optional.empty();
            long end = size;
            if (outcome instanceof SegmentScan.Bad bad) {
                Optional<Long> after = scan.unexplainedRecordAfter(bad.offset(), chain.expected);
                if (!mayBeTorn || after.isPresent()) {
                    throw damaged(file, chain.expected, "at offset " + bad.offset() + ", " + bad.reason()
                            + after.map(seq -> ", and a whole record written after it (sequence number " + seq + ") follows").orElse(""));
                }
                repaired = Optional.of(repair(channel, file, bad, size, chain.expected));
                end = bad.offset();
            }
            Optional<Long> sealed = repaired.isPresent() || chain.last == null || chain.last.event().kind() != AuditKind.AUDIT_CLOSED
                    || chain.last.event().stored().position() < 0 ? Optional.empty() : Optional.of(chain.last.event().stored().position());
            return new Tail(file, firstSeq, header.nonce(), end, chain.expected, chain.lastHash, repaired, sealed);
        }
    }

    /** Cuts a torn last write off and says what was cut. */
    private static String repair(FileChannel channel, Path file, SegmentScan.Bad bad, long size, long seq) throws IOException {
        channel.truncate(bad.offset());
        channel.force(true);
        String what = "truncated " + (size - bad.offset()) + " byte(s) at offset " + bad.offset() + " of " + file.getFileName()
                + " (from sequence number " + seq + "): the last write was cut short by a crash (" + bad.reason() + ")";
        LOG.log(WARNING, "audit: {0}", what);
        return what;
    }

    private static Tail create(Path directory, long firstSeq, ChannelFactory channels, long nonce, Optional<String> repaired)
            throws IOException {
        Path file = directory.resolve(AuditFormat.fileName(firstSeq));
        try (FileChannel channel = channels.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            AuditFormat.writeFully(channel, AuditFormat.header(firstSeq, nonce), 0);
            channel.force(true);
        }
        AuditFormat.forceDirectory(directory);
        return new Tail(file, firstSeq, nonce, AuditFormat.HEADER_BYTES, firstSeq, Sha256.ZERO, repaired, Optional.empty());
    }

    /**
     * The chain inside the segment: sequence numbers from the file name on, each record naming
     * the one before, a SEGMENT_STARTED first. Its first record's link to the segment before is
     * not checked here (that would read that segment too): {@code audit verify} checks it.
     */
    private static final class ChainCheck {
        private final Path file;
        private long expected;
        private Sha256 lastHash = Sha256.ZERO;
        private long records;
        private AuditRecord last;

        ChainCheck(Path file, long firstSeq) {
            this.file = file;
            this.expected = firstSeq;
        }

        boolean accept(AuditRecord record, long offset) throws AuditDamagedException {
            if (record.seq() != expected) {
                throw damaged(file, expected, "the record at offset " + offset + " has sequence number " + record.seq());
            }
            if (records == 0 && record.kind() != AuditKind.SEGMENT_STARTED) {
                throw damaged(file, expected, "the segment does not begin with a segment_started record");
            }
            if (records > 0 && !record.prevHash().equals(lastHash)) {
                throw damaged(file, expected, "the record at offset " + offset + " does not name the record before it");
            }
            lastHash = record.hash();
            last = record;
            expected++;
            records++;
            return true;
        }
    }

    static AuditDamagedException damaged(Path file, long seq, String what) {
        return new AuditDamagedException("audit segment " + file + " is damaged or was changed"
                + (seq >= 0 ? " at sequence number " + seq : "") + ": " + what + ". The audit cannot go on from a head it"
                + " cannot trust, so it does not open. To recover: keep the audit directory as evidence (copy it aside), run"
                + " 'audit verify' on it, then restore this file from a backup; or, accepting a break in the trail, move the"
                + " whole audit directory aside and start again: a new chain begins, and the journal's retained messages are"
                + " recorded again in it as recovered.");
    }
}
