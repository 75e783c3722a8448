package org.mllpserver.audit;

import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RefusedFrame;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Rebuilds, at start, the audit records of frames that were stored in the journal (and perhaps
 * answered AA) but whose audit record a crash kept from being forced.
 *
 * <p><b>Where to start reading the journal.</b> Audit events arrive in about journal order, not
 * exactly: a connection thread reports its frame after the journal's force returns, and many
 * connections do so at once. The journal is read from the highest position the audit records less
 * a slack, and a record is rebuilt when no audit record names its id. The slack suffices when no
 * record is reported later than {@code slack} bytes of journal written after it. Between its
 * record's force and its report a connection thread does no I/O and waits for nothing but the
 * audit queue; while it is held up, the journal can write only what was already queued for it
 * (at most 64 MiB, its queue bound) and the frames other connections hold at that moment (at most
 * MAX_INFLIGHT_BYTES), because every one of those threads, once it has appended, waits for the
 * journal in turn, and the virtual-thread scheduler runs waiting threads first in, first out.
 * The slack is twice that sum, and at least {@link #MIN_SLACK_BYTES}. A report held back longer
 * (a thread descheduled for a long time while the rest of the server goes on at full speed) is
 * the case this does not cover; then the frame would lack its audit record after a crash.
 *
 * <p><b>Which audit records count.</b> Those of kinds that leave a journal record (accepted,
 * refused, rejected, rule error), recovered ones included, read from the newest segment back until
 * a segment whose frames all lie below the start. A duplicate's record names the original's id
 * but does not count: the original's own record may be the one lost. Duplicates and storage
 * failures leave no journal record and cannot be rebuilt.
 */
final class JournalRebuild {

    private static final System.Logger LOG = System.getLogger(JournalRebuild.class.getName());
    /** The journal's bound on records queued for its flusher (Journal.MAX_QUEUED_BYTES). */
    static final long JOURNAL_QUEUED_BYTES = 64L << 20;
    /** The least slack: reading 256 MiB of journal at start takes well under a second from the page cache. */
    static final long MIN_SLACK_BYTES = 256L << 20;
    /** Margin over the bound argued above: the scheduler is only roughly first in, first out. */
    static final int SLACK_FACTOR = 2;

    private JournalRebuild() {
    }

    static long slackBytes(long maxInflightBytes) {
        return Math.max(MIN_SLACK_BYTES, SLACK_FACTOR * (JOURNAL_QUEUED_BYTES + Math.max(0, maxInflightBytes)));
    }

    /** The audited frames' record ids and the highest journal position among them (-1 when none). */
    record Audited(IdSet ids, long highestPosition) {}

    static int run(AuditLog audit, Path auditDirectory, Path journalDirectory, long slackBytes) throws IOException {
        long started = System.nanoTime();
        audit.flush(); // what open queued (a tail repair) is on disk before the audit is read
        Audited audited = audited(auditDirectory, slackBytes);
        long from = audited.highestPosition() < 0 ? 0 : Math.max(0, audited.highestPosition() - slackBytes);
        int[] rebuilt = new int[1];
        long[] read = new long[1];
        JournalReader.read(journalDirectory, from, entry -> {
            if (entry.type() != RecordType.MESSAGE && entry.type() != RecordType.REFUSED_FRAME) return;
            read[0]++;
            UUID id = JournalReader.idOf(entry).orElseThrow();
            if (audited.ids().contains(id)) return;
            rebuild(audit, entry);
            rebuilt[0]++;
        });
        audit.flush();
        LOG.log(rebuilt[0] > 0 ? WARNING : INFO, "audit: {0} record(s) rebuilt from the journal after a crash ({1} frame record(s)"
                        + " read from position {2}, {3} audited ids known; {4} ms)", String.valueOf(rebuilt[0]), String.valueOf(read[0]),
                String.valueOf(from), String.valueOf(audited.ids().size()), String.valueOf((System.nanoTime() - started) / 1_000_000));
        return rebuilt[0];
    }

    private static void rebuild(AuditLog audit, JournalReader.Entry entry) {
        try {
            if (entry.type() == RecordType.MESSAGE) {
                StoredMessage m = StoredMessage.decode(entry.body());
                audit.submit(AuditEvent.recovered(m, entry.position()), m.raw());
            } else {
                RefusedFrame f = RefusedFrame.decode(entry.body());
                audit.submit(AuditEvent.recovered(f, entry.position()), f.raw());
            }
        } catch (IllegalArgumentException unknownVersion) {
            LOG.log(WARNING, "audit: journal record at position {0} cannot be read by this version ({1}); not rebuilt",
                    String.valueOf(entry.position()), unknownVersion.getMessage());
        }
    }

    /**
     * Reads the audit from its newest segment back, collecting the ids of audited frames, until a
     * segment whose frames all lie more than {@code slackBytes} below the highest position seen.
     */
    static Audited audited(Path directory, long slackBytes) throws IOException {
        List<Path> files = AuditFormat.segmentFiles(directory);
        IdSet ids = new IdSet();
        long highest = -1;
        for (int i = files.size() - 1; i >= 0; i--) {
            long[] segmentHighest = {-1};
            boolean whole = collect(files.get(i), i == files.size() - 1, ids, segmentHighest);
            highest = Math.max(highest, segmentHighest[0]);
            if (!whole) break; // damage: what is before it cannot be read in order; verify will say more
            if (segmentHighest[0] >= 0 && segmentHighest[0] < highest - slackBytes) break;
        }
        return new Audited(ids, highest);
    }

    /**
     * Adds the segment's audited frame ids; false when it could not be read to its end (logged).
     * The last segment may end in a write in progress: its end, not damage.
     */
    private static boolean collect(Path file, boolean last, IdSet ids, long[] highest) throws IOException {
        long firstSeq = AuditFormat.firstSeqOf(file).orElseThrow();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            AuditFormat.Header header = AuditFormat.readHeader(channel, firstSeq, size);
            if (header.problem().isPresent()) return damaged(file, header.problem().get());
            SegmentScan.Outcome outcome = new SegmentScan(channel, size, header.nonce()).scanBodies(AuditFormat.HEADER_BYTES, (body, offset) -> {
                AuditRecord.StoredFacts facts;
                try {
                    facts = AuditRecord.storedFacts(body);
                } catch (IllegalArgumentException e) {
                    throw new SegmentScan.Undecodable(offset, e.getMessage());
                }
                if (facts.kind().leavesJournalRecord() && facts.recordId().isPresent()) {
                    ids.add(facts.recordId().get());
                    highest[0] = Math.max(highest[0], facts.position());
                }
                return true;
            });
            if (outcome instanceof SegmentScan.Bad bad && !last) return damaged(file, "at offset " + bad.offset() + ", " + bad.reason());
            return true;
        } catch (NoSuchFileException deletedMeanwhile) {
            return false;
        }
    }

    private static boolean damaged(Path file, String what) {
        LOG.log(WARNING, "audit: rebuilding from the journal stops reading the audit at {0}: {1} (run audit verify); a frame"
                + " audited before that point may be recorded again as recovered", file.getFileName(), what);
        return false;
    }
}
