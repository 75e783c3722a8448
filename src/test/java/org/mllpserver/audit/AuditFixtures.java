package org.mllpserver.audit;

import org.mllpserver.events.Events;
import org.mllpserver.journal.ChannelFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/** Events, audits and views of the files for the audit tests. */
final class AuditFixtures {

    static final Instant START = Instant.parse("2026-11-24T08:00:00Z");

    private AuditFixtures() {
    }

    static AuditLog.Settings settings(Path directory, long segmentBytes) {
        return new AuditLog.Settings(directory, segmentBytes, AuditLog.Settings.DEFAULT_RETENTION);
    }

    static AuditLog open(Path directory, long segmentBytes, Clock clock) throws IOException {
        return AuditLog.open(settings(directory, segmentBytes), clock, ChannelFactory.DEFAULT);
    }

    static Events.FrameAnswered accepted(Instant at, String controlId, UUID recordId, long position, byte[] payload) {
        return new Events.FrameAnswered(at, "10.1.2.3:40001", "CN=lab.example", Events.FrameOutcome.ACCEPTED, "AA",
                "LABSYS", "LAB", "ORU^R01^ORU_R01", controlId, Optional.of(recordId), position, payload, List.of());
    }

    static Events.FrameAnswered rejected(Instant at, String controlId, UUID recordId, long position, byte[] payload, List<String> rules) {
        return new Events.FrameAnswered(at, "10.1.2.4:40002", "", Events.FrameOutcome.REJECTED, "AR",
                "LABSYS", "LAB", "ORU^R01^ORU_R01", controlId, Optional.of(recordId), position, payload, rules);
    }

    static byte[] payload(String controlId) {
        return ("MSH|^~\\&|LABSYS|LAB|EHR|HOSP|20261124080000||ORU^R01^ORU_R01|" + controlId + "|P|2.5\r"
                + "PID|1||MRN-" + controlId + "||DOE^JANE\r").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** Every whole record in the directory, oldest first. */
    static List<AuditRecord> all(Path directory) throws IOException {
        List<AuditRecord> records = new ArrayList<>();
        AuditReader.read(directory, Optional.empty(), (record, offset) -> records.add(record));
        return records;
    }

    /** A record where it lies in its file. */
    record Located(Path file, long offset, int framedBytes, AuditRecord record) {}

    static List<Located> located(Path file) throws IOException {
        List<Located> found = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            AuditFormat.Header header = AuditFormat.readHeader(channel, AuditFormat.firstSeqOf(file).orElseThrow(), size);
            new SegmentScan(channel, size, header.nonce()).scan(AuditFormat.HEADER_BYTES, (record, offset) -> {
                found.add(new Located(file, offset, 0, record));
                return true;
            });
            List<Located> sized = new ArrayList<>();
            for (int i = 0; i < found.size(); i++) {
                long end = i + 1 < found.size() ? found.get(i + 1).offset() : endOf(channel, found.get(i).offset());
                sized.add(new Located(file, found.get(i).offset(), (int) (end - found.get(i).offset()), found.get(i).record()));
            }
            return sized;
        }
    }

    private static long endOf(FileChannel channel, long offset) throws IOException {
        java.nio.ByteBuffer length = java.nio.ByteBuffer.allocate(4);
        AuditFormat.readFully(channel, length, offset);
        return offset + AuditFormat.FRAME_BYTES + length.getInt(0);
    }

    static long nonceOf(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return AuditFormat.readHeader(channel, AuditFormat.firstSeqOf(file).orElseThrow(), channel.size()).nonce();
        }
    }

    static List<Path> segments(Path directory) throws IOException {
        return AuditFormat.segmentFiles(directory);
    }

    /** A copy of the audit's files as they are now: with the writer idle, what a crash (SIGKILL) would leave. */
    static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                if (AuditFormat.firstSeqOf(file).isPresent()) Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return to;
    }

    static byte[] read(Path file) throws IOException {
        return Files.readAllBytes(file);
    }

    static void write(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
    }

    static Duration days(long n) {
        return Duration.ofDays(n);
    }
}
