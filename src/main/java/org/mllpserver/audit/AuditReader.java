package org.mllpserver.audit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the audit in a directory without changing it and without its lock, while a server may be
 * writing it: for the {@code audit} commands and the admin API. Only whole records are read; an
 * incomplete write at the end of the last segment (in progress, or torn by a crash) is left out.
 * Listing and export throw {@link AuditDamagedException} at damage elsewhere; {@link #verify} judges it.
 */
public final class AuditReader {

    /** The most records one search returns: a page for a person or an API client (export is for everything). */
    public static final int MAX_LIMIT = 10_000;
    /**
     * Verification passes, at most: a break seen at the growing end of the last segment, or a file
     * that vanished mid-read (retention), may be the writer's doing, so verify looks again; a real
     * break is there every time.
     */
    static final int VERIFY_ATTEMPTS = 3;

    private AuditReader() {
    }

    /**
     * What to find. Times compare with each record's {@code time}; {@code controlId} with MSH-10
     * exactly. {@code newestFirst} returns the last {@code limit} matches recorded, last first;
     * otherwise the first, first first. "Recorded" is the chain's order (sequence numbers), which
     * follows time closely but not exactly (events from many threads; recovered frames keep the
     * time they were received).
     */
    public record Query(Optional<Instant> since, Optional<Instant> until, Optional<String> controlId, Optional<AuditKind> kind,
                        int limit, boolean newestFirst) {
        public Query {
            if (limit < 1 || limit > MAX_LIMIT) throw new IllegalArgumentException("a limit from 1 to " + MAX_LIMIT + ", not " + limit);
        }

        boolean matches(AuditRecord r) {
            AuditEvent e = r.event();
            return since.map(s -> !e.time().isBefore(s)).orElse(true)
                    && until.map(u -> e.time().isBefore(u)).orElse(true)
                    && controlId.map(c -> c.equals(e.header().controlId())).orElse(true)
                    && kind.map(k -> k == e.kind()).orElse(true);
        }
    }

    /** The records that match, as the query orders them. */
    public static List<AuditRecord> search(Path directory, Query query) throws IOException {
        ArrayDeque<AuditRecord> found = new ArrayDeque<>();
        read(directory, query.since(), (record, offset) -> {
            if (!query.matches(record)) return true;
            found.addLast(record);
            if (!query.newestFirst()) return found.size() < query.limit();
            if (found.size() > query.limit()) found.removeFirst();
            return true;
        });
        List<AuditRecord> result = new ArrayList<>(found);
        if (query.newestFirst()) java.util.Collections.reverse(result);
        return result;
    }

    /** Every record from {@code since} to {@code until} (each optional), oldest first, one JSON line each; returns how many. */
    public static long export(Path directory, Optional<Instant> since, Optional<Instant> until, Appendable out) throws IOException {
        Query window = new Query(since, until, Optional.empty(), Optional.empty(), 1, false);
        long[] count = {0};
        read(directory, since, (record, offset) -> {
            if (!window.matches(record)) return true;
            out.append(AuditJson.line(record)).append('\n');
            count[0]++;
            return true;
        });
        return count[0];
    }

    /** Visits every whole record, oldest first (what a test or a tool needs beyond {@link #search}'s page). */
    public static void forEach(Path directory, java.util.function.Consumer<AuditRecord> visitor) throws IOException {
        read(directory, Optional.empty(), (record, offset) -> {
            visitor.accept(record);
            return true;
        });
    }

    /** Checks the whole chain: "N records, head H", or the first break (see {@link ChainVerifier}). */
    public static Verification verify(Path directory) throws IOException {
        Verification result = null;
        for (int attempt = 1; attempt <= VERIFY_ATTEMPTS; attempt++) {
            List<Path> files = AuditFormat.segmentFiles(directory);
            try {
                result = new ChainVerifier(files).run();
            } catch (NoSuchFileException deletedMeanwhile) {
                continue; // retention removed a segment while we read: look again
            }
            if (!(result instanceof Verification.Broken broken) || !broken.file().equals(files.getLast())) return result;
        }
        if (result == null) throw new IOException("the audit's segments kept changing while they were verified; try again");
        return result;
    }

    /**
     * Visits every whole record, oldest first, skipping the segments closed before {@code since}
     * (a record's time is never after the moment it was written).
     */
    static void read(Path directory, Optional<Instant> since, SegmentScan.Visitor visitor) throws IOException {
        List<Path> files = AuditFormat.segmentFiles(directory);
        for (int i = 0; i < files.size(); i++) {
            boolean last = i == files.size() - 1;
            if (!last && since.isPresent() && closedBefore(files.get(i + 1), since.get())) continue;
            if (!readSegment(files.get(i), last, visitor)) return;
        }
    }

    private static boolean closedBefore(Path nextSegment, Instant since) throws IOException {
        Optional<AuditRecord> started = Retention.firstRecord(nextSegment);
        return started.isPresent() && started.get().event().time().isBefore(since);
    }

    /** False when the visitor stopped. */
    private static boolean readSegment(Path file, boolean last, SegmentScan.Visitor visitor) throws IOException {
        long firstSeq = AuditFormat.firstSeqOf(file).orElseThrow();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            AuditFormat.Header header = AuditFormat.readHeader(channel, firstSeq, size);
            if (header.problem().isPresent()) {
                if (last && size <= AuditFormat.HEADER_BYTES) return true; // being started
                throw new AuditDamagedException("audit segment " + file + ": " + header.problem().get() + " (run audit verify)");
            }
            boolean[] stopped = {false};
            SegmentScan.Outcome outcome = new SegmentScan(channel, size, header.nonce()).scan(AuditFormat.HEADER_BYTES, (record, offset) -> {
                boolean goOn = visitor.visit(record, offset);
                stopped[0] = !goOn;
                return goOn;
            });
            if (outcome instanceof SegmentScan.Bad bad && !last) {
                throw new AuditDamagedException("audit segment " + file + " is damaged at offset " + bad.offset() + ": " + bad.reason()
                        + " (run audit verify)");
            }
            return !stopped[0];
        } catch (NoSuchFileException deletedMeanwhile) {
            return true; // retention removed it while we listed: nothing of it is left to read
        }
    }
}
