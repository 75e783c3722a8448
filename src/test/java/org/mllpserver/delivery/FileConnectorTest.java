package org.mllpserver.delivery;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The file connector on the real file system: one test per row of its classification table. */
class FileConnectorTest {

    @TempDir
    Path root;

    @Test
    void writesTheStoredBytesUnderTheRecordIdAndLeavesNoTempFile() throws IOException, InterruptedException {
        Path dir = root.resolve("out/lab"); // missing: created by the connector
        StoredMessage message = message(UUID.randomUUID(), everyByte());
        try (FileConnector connector = connector(dir)) {
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(1, message)));
        }
        assertEquals(List.of(message.id() + ".hl7"), names(dir), "one file, no temp file");
        assertArrayEquals(message.raw(), Files.readAllBytes(dir.resolve(message.id() + ".hl7")));
    }

    @Test
    void aRepeatDeliveryReplacesTheSameFile() throws IOException, InterruptedException {
        Path dir = root.resolve("out");
        UUID id = UUID.randomUUID();
        try (FileConnector connector = connector(dir)) {
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(1, message(id, hl7("first")))));
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(1, message(id, hl7("second, longer than the first")))));
        }
        assertEquals(List.of(id + ".hl7"), names(dir));
        assertArrayEquals(hl7("second, longer than the first"), Files.readAllBytes(dir.resolve(id + ".hl7")));
    }

    @Test
    void tempFilesLeftByACrashAreRemovedAtConstructionAndDeliveredFilesKept() throws IOException {
        Path dir = Files.createDirectories(root.resolve("out"));
        String delivered = UUID.randomUUID() + ".hl7";
        Files.write(dir.resolve(delivered), hl7("delivered before the crash"));
        Files.write(dir.resolve("." + UUID.randomUUID() + ".tmp"), hl7("half"));
        try (FileConnector connector = connector(dir)) {
            assertEquals(List.of(delivered), names(dir));
        }
    }

    @Test
    void aDirectoryThatDisappearedIsRetryableAndNotRecreatedThenDeliveredOnceRestored() throws IOException, InterruptedException {
        Path dir = root.resolve("out");
        StoredMessage message = message(UUID.randomUUID(), hl7("waits"));
        try (FileConnector connector = connector(dir)) {
            Files.delete(dir);
            Outcome outcome = connector.deliver(new Delivery(1, message));
            assertInstanceOf(Outcome.Retryable.class, outcome);
            assertTrue(((Outcome.Retryable) outcome).reason().contains("does not exist"), outcome.toString());
            assertTrue(Files.notExists(dir), "not re-created: it may be a mount point");

            Files.createDirectory(dir);
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(1, message)));
        }
        assertEquals(List.of(message.id() + ".hl7"), names(dir));
    }

    /** A file where the directory should be: "Not a directory", the I/O error row; runs as any user. */
    @Test
    void aFileSystemErrorIsRetryable() throws IOException, InterruptedException {
        Path dir = root.resolve("out");
        try (FileConnector connector = connector(dir)) {
            Files.delete(dir);
            Files.write(dir, hl7("not a directory"));
            Outcome outcome = connector.deliver(new Delivery(1, message(UUID.randomUUID(), hl7("waits"))));
            assertInstanceOf(Outcome.Retryable.class, outcome);
            assertTrue(((Outcome.Retryable) outcome).reason().contains("cannot write in " + dir), outcome.toString());
        }
    }

    @Test
    void aDirectoryThatIsNotWritableIsRetryableAndLeavesNothingBehind() throws IOException, InterruptedException {
        Path dir = root.resolve("out");
        StoredMessage message = message(UUID.randomUUID(), hl7("waits"));
        try (FileConnector connector = connector(dir)) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
            // Root writes into a read-only directory anyway; the immutable attribute stops root too.
            boolean immutable = Files.isWritable(dir) && chattr("+i", dir);
            try {
                assumeFalse(Files.isWritable(dir), "running as root where chattr +i is not available: the directory stays writable");
                Outcome outcome = connector.deliver(new Delivery(1, message));
                assertInstanceOf(Outcome.Retryable.class, outcome);
                String reason = ((Outcome.Retryable) outcome).reason(); // permissions: "is not writable"; immutable: "cannot write in"
                assertTrue(reason.contains("is not writable") || reason.contains("cannot write in"), outcome.toString());
            } finally {
                if (immutable) chattr("-i", dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
            assertEquals(List.of(), names(dir));
            assertEquals(Outcome.DELIVERED, connector.deliver(new Delivery(1, message)));
        }
    }

    /** Runs chattr (e2fsprogs) on {@code dir}; false when it is not there or the file system has no such attribute. */
    private static boolean chattr(String flag, Path dir) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("chattr", flag, dir.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static FileConnector connector(Path dir) throws IOException {
        return new FileConnector("archive", new ConnectorSettings.File(dir));
    }

    private static StoredMessage message(UUID id, byte[] raw) {
        return new StoredMessage(id, Instant.parse("2026-11-22T10:15:30.123Z"), "/10.0.0.1:5000", "", "LAB", "HOSP",
                "ADT^A01^ADT_A01", "C-1", "ISO-8859-1", List.of("archive"), raw);
    }

    private static byte[] hl7(String pid) {
        return ("MSH|^~\\&|LAB|HOSP|||20261122101530||ADT^A01^ADT_A01|C-1|P|2.5\rPID|1||" + pid + "\r").getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A message followed by every byte value: nothing may be translated on the way to the disk. */
    private static byte[] everyByte() {
        byte[] head = hl7("all bytes");
        byte[] raw = new byte[head.length + 256];
        System.arraycopy(head, 0, raw, 0, head.length);
        for (int b = 0; b < 256; b++) raw[head.length + b] = (byte) b;
        return raw;
    }

    /** Every name in {@code dir}, hidden ones included, sorted. */
    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
