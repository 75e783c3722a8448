package org.mllpserver.delivery;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Each connector's durable cursor: the journal position from which its dispatcher reads next.
 * One small file per connector, {@code <name>.cursor} in {@code DATA_DIR/cursors}, holding
 * {@code MLLPCUR1 <position> <crc32c>}. A save writes a temporary file, forces it, renames it over
 * the old one and forces the directory, so after a crash the file holds the old cursor or the new
 * one, never a mix. Thread-safe per connector (each dispatcher saves only its own).
 */
public final class CursorStore {

    private static final String MAGIC = "MLLPCUR1";

    private final Path directory;

    public CursorStore(Path directory) throws IOException {
        this.directory = directory;
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory);
            force(directory.toAbsolutePath().getParent());
        }
    }

    /** The saved cursor; empty when the connector has none yet. Throws when the file is damaged. */
    public Optional<Long> load(String connector) throws IOException {
        Path file = fileOf(connector);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        String[] parts = text.split(" ");
        if (parts.length != 3 || !parts[0].equals(MAGIC) || !parts[1].matches("[0-9]{1,19}") || !parts[2].matches("[0-9a-f]{8}")
                || !parts[2].equals(crc(parts[1]))) {
            throw new IOException("cursor file " + file + " is damaged; to go on, delete it (the connector then reads the"
                    + " retained journal from its start: records may be delivered again) or write '" + MAGIC
                    + " <position> <crc32c>' by hand");
        }
        return Optional.of(Long.parseLong(parts[1]));
    }

    /** Every connector with a readable cursor file, by name, with its cursor; a damaged one is reported to {@code damaged}. */
    public java.util.Map<String, Long> all(java.util.function.Consumer<String> damaged) throws IOException {
        java.util.Map<String, Long> found = new java.util.TreeMap<>();
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (!name.endsWith(".cursor") || name.startsWith(".")) continue;
                String connector = name.substring(0, name.length() - ".cursor".length());
                try {
                    load(connector).ifPresent(position -> found.put(connector, position));
                } catch (IOException e) {
                    damaged.accept(e.getMessage());
                }
            }
        }
        return found;
    }

    /** Saves the cursor durably; returns only after it is on disk. */
    public void save(String connector, long position) throws IOException {
        Path file = fileOf(connector);
        Path temp = directory.resolve("." + connector + ".cursor.tmp");
        String text = MAGIC + " " + position + " " + crc(Long.toString(position)) + "\n";
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
            while (bytes.hasRemaining()) channel.write(bytes);
            channel.force(true);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system under " + directory + " cannot rename atomically; cursors need it", e);
        }
        force(directory);
    }

    private Path fileOf(String connector) {
        return directory.resolve(connector + ".cursor");
    }

    private static String crc(String text) {
        CRC32C crc = new CRC32C();
        crc.update(text.getBytes(StandardCharsets.US_ASCII));
        return String.format("%08x", crc.getValue());
    }

    private static void force(Path dir) throws IOException {
        if (dir == null) return;
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
