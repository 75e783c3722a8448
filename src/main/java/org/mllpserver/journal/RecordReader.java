package org.mllpserver.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads single records by position, checked: a dead letter's message when it is shown or
 * replayed, instead of keeping every message in memory. Keeps the segment it read last open, so
 * reading many positions in order (a replay of every dead letter) opens each file once.
 *
 * <p>A position that is not the start of a whole record, a checksum that does not match, or a
 * segment that is gone throws {@link JournalDamagedException} (positions come from the journal
 * itself, so any of these is damage). Not thread-safe: one user at a time.
 */
public final class RecordReader implements AutoCloseable {

    private final Path directory;
    private List<Path> files = List.of();
    private FileChannel channel;
    private long base = -1;

    public RecordReader(Path directory) {
        this.directory = directory;
    }

    /** The record at {@code position}. */
    public JournalReader.Entry read(long position) throws IOException {
        FileChannel segment = segmentFor(position);
        long offset = position - base;
        ByteBuffer header = ByteBuffer.allocate(RecordFormat.HEADER_BYTES);
        try {
            SegmentFile.readFully(segment, header, offset);
        } catch (java.io.EOFException e) {
            throw damaged(position, "the segment ends before a record header");
        }
        int length = header.getInt(0);
        if (length < 1 || length > RecordFormat.MAX_LENGTH || offset + 8 + length > segment.size()) {
            throw damaged(position, "no whole record starts there (length " + length + ")");
        }
        ByteBuffer body = ByteBuffer.allocate(length - 1);
        SegmentFile.readFully(segment, body, offset + RecordFormat.HEADER_BYTES);
        CRC32C crc = new CRC32C();
        crc.update(header.slice(0, 4));
        crc.update(header.slice(8, 1));
        crc.update(body.flip());
        if ((int) crc.getValue() != header.getInt(4)) throw damaged(position, "the record's checksum does not match");
        RecordType type = RecordType.of(header.get(8));
        if (type == null || type == RecordType.BATCH) throw damaged(position, "no message record starts there");
        return new JournalReader.Entry(position, type, body.array(), 0);
    }

    private FileChannel segmentFor(long position) throws IOException {
        if (channel != null && position >= base && position < base + channel.size()) return channel;
        Path file = fileFor(position);
        if (file == null || (file.equals(files.getLast()) && position >= SegmentFile.baseOf(file).orElseThrow() + sizeOf(file))) {
            files = Recovery.segmentFiles(directory); // the journal may have started a segment since the list was read
            file = fileFor(position);
        }
        if (file == null) throw damaged(position, "no segment holds it (deleted, or not written yet)");
        close();
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw damaged(position, "its segment " + file.getFileName() + " is gone");
        }
        base = SegmentFile.baseOf(file).orElseThrow();
        return channel;
    }

    /** The file whose first position is the greatest at or below {@code position}, if a later file (or none) follows. */
    private Path fileFor(long position) {
        Path found = null;
        for (Path f : files) {
            if (SegmentFile.baseOf(f).orElseThrow() <= position) found = f;
            else break;
        }
        return found;
    }

    private static long sizeOf(Path file) {
        try {
            return java.nio.file.Files.size(file);
        } catch (IOException e) {
            return 0; // gone (retention): the list is read again
        }
    }

    private JournalDamagedException damaged(long position, String what) {
        return new JournalDamagedException("journal " + directory + ": cannot read the record at position " + position + ": " + what);
    }

    @Override
    public void close() throws IOException {
        if (channel != null) channel.close();
        channel = null;
        base = -1;
    }
}
