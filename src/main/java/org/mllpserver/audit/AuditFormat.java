package org.mllpserver.audit;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The audit's files. A segment file is {@code <sequence number of its first record, 20
 * digits>.audit}: a 24-byte header (the magic {@code MLLPAUD1}, that sequence number again, and
 * a random nonce), then records, each
 * <pre>
 *   length  int32   bytes of the body ({@link AuditRecord})
 *   crc     int32   CRC32C over the segment's nonce (8 bytes), the length and the body
 *   body    length bytes
 * </pre>
 * The checksum covers the length, so a damaged length is caught, not followed; it is seeded with
 * the nonce, so that text a sender controls (MSH-10) inside one record cannot pass for another
 * record when a reader looks for records after a damaged one.
 */
final class AuditFormat {

    static final int HEADER_BYTES = 24;
    static final int FRAME_BYTES = 8;
    static final byte[] MAGIC = "MLLPAUD1".getBytes(StandardCharsets.US_ASCII);
    static final String LOCK_FILE = "audit.lock";
    private static final Pattern NAME = Pattern.compile("([0-9]{20})\\.audit");

    private AuditFormat() {
    }

    static String fileName(long firstSeq) {
        return String.format("%020d.audit", firstSeq);
    }

    /** The first sequence number a file name declares, when it is a segment file name. */
    static Optional<Long> firstSeqOf(Path file) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        return m.matches() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }

    /** The segment files of a directory, oldest first; other files are ignored. */
    static List<Path> segmentFiles(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) return List.of();
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(p -> firstSeqOf(p).isPresent())
                    .sorted(Comparator.comparing(p -> firstSeqOf(p).orElseThrow()))
                    .toList();
        }
    }

    static ByteBuffer header(long firstSeq, long nonce) {
        return ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putLong(firstSeq).putLong(nonce).flip();
    }

    /** A segment's header: its nonce, or what is wrong with it. */
    record Header(long nonce, Optional<String> problem) {
        static Header bad(String problem) {
            return new Header(0, Optional.of(problem));
        }
    }

    static Header readHeader(FileChannel channel, long firstSeq, long size) throws IOException {
        if (size < HEADER_BYTES) return Header.bad("the file is shorter than a segment header (" + size + " bytes)");
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        readFully(channel, header, 0);
        byte[] magic = new byte[MAGIC.length];
        header.get(0, magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) return Header.bad("it does not start with " + new String(MAGIC, StandardCharsets.US_ASCII));
        long declared = header.getLong(MAGIC.length);
        if (declared != firstSeq) return Header.bad("its header says sequence number " + declared + ", its name " + firstSeq);
        return new Header(header.getLong(MAGIC.length + 8), Optional.empty());
    }

    /** Appends one framed record to {@code out}. */
    static void frame(ByteBuffer out, long nonce, byte[] body) {
        int start = out.position();
        out.putInt(body.length).putInt(0).put(body);
        out.putInt(start + 4, crc(out, start, nonce));
    }

    /** The checksum of the record framed at {@code start}: CRC32C over the nonce, the length field, then the body. */
    static int crc(ByteBuffer buffer, int start, long nonce) {
        int length = buffer.getInt(start);
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(8).putLong(0, nonce));
        crc.update(buffer.slice(start, 4));
        crc.update(buffer.slice(start + FRAME_BYTES, length));
        return (int) crc.getValue();
    }

    static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) at += channel.write(buffer, at);
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) throw new EOFException("unexpected end of " + channel);
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
