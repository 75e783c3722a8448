package org.mllpserver.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

import static java.lang.System.Logger.Level.WARNING;

/**
 * Opening the journal: reads every segment (from a checkpoint's position, when one fits), checks
 * every record read, and decides, as the table in the design says:
 *
 * <table>
 *   <tr><th>found</th><th>meaning</th><th>action</th></tr>
 *   <tr><td>clean segments</td><td>normal</td><td>open the last for append at its end</td></tr>
 *   <tr><td>a batch that is not whole at the tail of the last segment, with no whole batch after
 *       it</td><td>a crash cut the last write short; that write was never forced, so none of
 *       its records was acknowledged</td><td>truncate at the batch start; log it</td></tr>
 *   <tr><td>nothing but zeros after the last whole batch of the last segment</td><td>space
 *       the writer preallocated and a crash left behind</td><td>truncate it</td></tr>
 *   <tr><td>a last segment shorter than its header</td><td>a crash while a segment was
 *       created</td><td>write the header again</td></tr>
 *   <tr><td>a bad checksum or length anywhere else (an earlier segment, or a batch followed
 *       by a whole batch, such as the empty "seal" batch a clean close writes)</td><td>acknowledged
 *       data is damaged</td><td>refuse to start, naming file, position and what to do</td></tr>
 *   <tr><td>segment files that do not follow each other, a wrong header</td><td>files from
 *       elsewhere, or a missing file</td><td>refuse to start</td></tr>
 *   <tr><td>a checkpoint whose segments match the files (same nonce and size before its
 *       position; the segment it ends in still there)</td><td>normal</td><td>the segments before
 *       its position are taken from it unread; the records from it on are read and judged as
 *       above</td></tr>
 *   <tr><td>a checkpoint that does not match the files</td><td>a segment restored from a
 *       backup, removed, or from another journal</td><td>read everything, logged</td></tr>
 * </table>
 *
 * Only the last write can be torn because the writer forces each batch before writing the
 * next one; a batch marker at the start of each batch is what lets recovery tell a torn tail
 * from damage.
 */
final class Recovery {

    private static final System.Logger LOG = System.getLogger(Recovery.class.getName());

    private Recovery() {
    }

    /** What recovery found: the segments, oldest first, the last ready for appending; whether it started from a checkpoint. */
    record Recovered(List<SegmentFile> segments, boolean fromCheckpoint) {}

    /** The segments, oldest first, the last ready for appending; {@code visitor} sees every whole batch's records. */
    static List<SegmentFile> run(Path directory, ChannelFactory channels, RecordVisitor visitor, LongSupplier nonces) throws IOException {
        return run(directory, channels, visitor, nonces, java.util.Optional.empty()).segments();
    }

    /**
     * As above, from a checkpoint when it matches the files: segments before the one its position
     * is in are taken from it unread (their header, nonce and size checked), and {@code visitor}
     * sees only the records from its position on. Otherwise, the whole journal, logged.
     */
    static Recovered run(Path directory, ChannelFactory channels, RecordVisitor visitor, LongSupplier nonces,
                         java.util.Optional<JournalCheckpoint> checkpoint) throws IOException {
        List<Path> files = segmentFiles(directory);
        List<SegmentFile> segments = new ArrayList<>();
        if (files.isEmpty()) {
            if (checkpoint.isPresent()) LOG.log(WARNING, "journal {0}: a checkpoint exists but no segment does; starting empty", directory);
            segments.add(SegmentFile.create(directory, 0, nonces.getAsLong(), channels));
            return new Recovered(segments, false);
        }
        java.util.Optional<JournalCheckpoint> usable = checkpoint.filter(c -> matches(c, files));
        java.util.Map<Long, JournalCheckpoint.Segment> listed = new java.util.HashMap<>();
        usable.ifPresent(c -> c.segments().forEach(s -> listed.put(s.base(), s)));
        long containing = usable.map(c -> c.segments().getLast().base()).orElse(Long.MIN_VALUE);
        long expected = SegmentFile.baseOf(files.getFirst()).orElseThrow();
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            long base = SegmentFile.baseOf(file).orElseThrow();
            if (base != expected) {
                throw damaged(file, base, "it starts at position " + base + " but the previous segment ends at " + expected
                        + ": a segment file is missing, or this one comes from another journal");
            }
            boolean last = i == files.size() - 1;
            SegmentFile segment;
            if (base < containing) {
                JournalCheckpoint.Segment s = listed.get(base); // checked by matches(): unchanged since the checkpoint
                segment = new SegmentFile(file, base, s.nonce(), s.size(), s.newestBatchMillis());
            } else if (base == containing) {
                JournalCheckpoint.Segment s = listed.get(base);
                segment = recover(file, base, last, channels, visitor, nonces, s.size(), s.newestBatchMillis());
            } else {
                segment = recover(file, base, last, channels, visitor, nonces, SegmentFile.HEADER_BYTES, 0);
            }
            segments.add(segment);
            expected = segment.end();
        }
        // A crash may have come between creating or repairing the last segment and forcing its
        // directory entry: force it now, before anything is appended to that file.
        SegmentFile.forceDirectory(directory);
        return new Recovered(segments, usable.isPresent());
    }

    /**
     * Whether the checkpoint describes these files: every file before the one its position is in
     * is listed, with the same nonce and size; that one exists, with its nonce, and holds at least
     * what it held then. Anything else (a file restored from a backup, removed, or from another
     * journal) means reading everything. Logged when it does not match.
     */
    static boolean matches(JournalCheckpoint checkpoint, List<Path> files) {
        java.util.Map<Long, JournalCheckpoint.Segment> listed = new java.util.HashMap<>();
        checkpoint.segments().forEach(s -> listed.put(s.base(), s));
        JournalCheckpoint.Segment containing = checkpoint.segments().getLast();
        boolean containingSeen = false;
        for (Path file : files) {
            long base = SegmentFile.baseOf(file).orElseThrow();
            if (base > containing.base()) break;
            JournalCheckpoint.Segment s = listed.get(base);
            String problem = s == null ? "it is not in the checkpoint" : differs(file, s, base == containing.base());
            if (problem != null) {
                LOG.log(WARNING, "journal: the checkpoint does not match segment {0} ({1}); reading the whole journal instead",
                        file.getFileName(), problem);
                return false;
            }
            containingSeen |= base == containing.base();
        }
        if (!containingSeen) {
            LOG.log(WARNING, "journal: the segment the checkpoint ends in ({0}) is gone; reading the whole journal instead",
                    SegmentFile.fileName(containing.base()));
        }
        return containingSeen;
    }

    /** What differs between a segment file and its checkpoint entry, or null. */
    private static String differs(Path file, JournalCheckpoint.Segment s, boolean containing) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            SegmentScanner.Header header = SegmentScanner.readHeader(channel, s.base(), size);
            if (header.problem().isPresent()) return header.problem().get();
            if (header.nonce() != s.nonce()) return "its nonce differs: another file with the same name";
            if (containing ? size < s.size() : size != s.size()) return "it holds " + size + " bytes, the checkpoint says " + s.size();
            return null;
        } catch (IOException e) {
            return "it cannot be read: " + e.getMessage();
        }
    }

    private static SegmentFile recover(Path file, long base, boolean last, ChannelFactory channels, RecordVisitor visitor,
                                       LongSupplier nonces, long fromOffset, long newestBefore) throws IOException {
        StandardOpenOption[] options = last
                ? new StandardOpenOption[]{StandardOpenOption.READ, StandardOpenOption.WRITE}
                : new StandardOpenOption[]{StandardOpenOption.READ};
        try (FileChannel channel = channels.open(file, options)) {
            long size = channel.size();
            SegmentScanner.Header header = SegmentScanner.readHeader(channel, base, size);
            if (header.problem().isPresent()) {
                if (last && size <= SegmentFile.HEADER_BYTES) return rewriteHeader(file, base, channel, nonces.getAsLong());
                throw damaged(file, base, header.problem().get());
            }
            SegmentScanner.Outcome outcome = SegmentScanner.scan(channel, base, header.nonce(), size, fromOffset, newestBefore,
                    (records, writtenAt) -> {
                        for (SegmentScanner.ScannedRecord r : records) visitor.visit(r.position(), r.type(), r.body());
                    });
            return switch (outcome) {
                case SegmentScanner.Clean clean -> new SegmentFile(file, base, header.nonce(), clean.size(), clean.newestBatchMillis());
                case SegmentScanner.Damaged damage -> tornTailOrRefuse(file, base, header.nonce(), last, channel, size, damage);
            };
        }
    }

    private static SegmentFile tornTailOrRefuse(Path file, long base, long nonce, boolean last, FileChannel channel, long size,
                                                SegmentScanner.Damaged damage) throws IOException {
        if (last && SegmentScanner.onlyZerosFrom(channel, damage.batchOffset(), size)) {
            // Space the writer had preallocated and not yet used: nothing was written there.
            channel.truncate(damage.batchOffset());
            channel.force(true);
            LOG.log(System.Logger.Level.INFO, "journal {0}: removed {1} byte(s) of preallocated space after the last batch",
                    file.getFileName(), String.valueOf(size - damage.batchOffset()));
            return new SegmentFile(file, base, nonce, damage.batchOffset(), damage.newestBatchMillis());
        }
        boolean tornTail = last && !SegmentScanner.hasBatchAfter(channel, damage.batchOffset(), size, nonce);
        if (!tornTail) {
            throw damaged(file, base + damage.detailOffset(), damage.reason() + (last ? ", and a whole batch follows it" : ""));
        }
        channel.truncate(damage.batchOffset());
        channel.force(true);
        LOG.log(WARNING, "journal {0}: truncated {1} byte(s) from position {2}: the last write was cut short by a crash ({3});"
                        + " it was never forced, so none of its messages had been acknowledged",
                file.getFileName(), String.valueOf(size - damage.batchOffset()), String.valueOf(base + damage.batchOffset()),
                damage.reason());
        return new SegmentFile(file, base, nonce, damage.batchOffset(), damage.newestBatchMillis());
    }

    private static SegmentFile rewriteHeader(Path file, long base, FileChannel channel, long nonce) throws IOException {
        channel.truncate(0);
        SegmentFile.writeFully(channel, SegmentFile.header(base, nonce), 0);
        channel.force(true);
        LOG.log(WARNING, "journal {0}: rewrote the header of a segment whose creation a crash cut short (it held no records)",
                file.getFileName());
        return new SegmentFile(file, base, nonce, SegmentFile.HEADER_BYTES, 0);
    }

    private static JournalDamagedException damaged(Path file, long position, String what) {
        return new JournalDamagedException("journal segment " + file + " is damaged at position " + position + ": " + what
                + ". Acknowledged messages may be affected, so the server will not start. To recover: stop here, copy the"
                + " DATA_DIR aside, then restore this file from a backup; or, accepting the loss, move this segment and every"
                + " later one out of the journal directory (their messages will not be delivered) and start again.");
    }

    /** Journal files of the directory, oldest first; other files are ignored. */
    static List<Path> segmentFiles(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(p -> SegmentFile.baseOf(p).isPresent())
                    .sorted(Comparator.comparing(p -> SegmentFile.baseOf(p).orElseThrow()))
                    .toList();
        }
    }
}
