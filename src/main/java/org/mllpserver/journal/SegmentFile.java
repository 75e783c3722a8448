package org.mllpserver.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One journal file: {@code <first position, 20 digits>.journal}, starting with a 24-byte header
 * (the magic {@code MLLPJRN1}, the first position again, and a random nonce that seeds the batch
 * markers' checksums), then batches of records. Positions
 * are offsets into the concatenation of all segment files, header bytes included, so a segment's
 * first position is the previous segment's first position plus its size.
 */
final class SegmentFile {

    static final int HEADER_BYTES = 24;
    static final byte[] MAGIC = "MLLPJRN1".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern NAME = Pattern.compile("([0-9]{20})\\.journal");

    final Path path;
    final long base;
    final long nonce;
    /** Bytes in the file, header included; what the writer has appended so far. */
    long size;
    /** When the newest batch in this file was written (epoch millis); 0 when it holds none. */
    long newestBatchMillis;

    SegmentFile(Path path, long base, long nonce, long size, long newestBatchMillis) {
        this.path = path;
        this.base = base;
        this.nonce = nonce;
        this.size = size;
        this.newestBatchMillis = newestBatchMillis;
    }

    long end() {
        return base + size;
    }

    boolean hasRecords() {
        return size > HEADER_BYTES;
    }

    static String fileName(long base) {
        return String.format("%020d.journal", base);
    }

    /** The first position a file name declares, when it is a journal file name. */
    static Optional<Long> baseOf(Path file) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        return m.matches() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }

    static ByteBuffer header(long base, long nonce) {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        header.put(MAGIC).putLong(base).putLong(nonce).flip();
        return header;
    }

    /** Creates the file with its header and forces both the file and its directory. */
    static SegmentFile create(Path directory, long base, long nonce, ChannelFactory channels) throws IOException {
        Path path = directory.resolve(fileName(base));
        // A file already at this name can only be an earlier attempt that failed before any record went in.
        try (FileChannel channel = channels.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            writeFully(channel, header(base, nonce), 0);
            channel.force(true);
        }
        forceDirectory(directory);
        return new SegmentFile(path, base, nonce, HEADER_BYTES, 0);
    }

    static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) at += channel.write(buffer, at);
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) throw new java.io.EOFException("unexpected end of " + channel);
            at += n;
        }
    }

    /** A new or deleted file is durable only once its directory entry is: force the directory. */
    static void forceDirectory(Path directory) throws IOException {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }
}
