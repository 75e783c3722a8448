package org.mllpserver.journal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * One record on disk, big-endian:
 * <pre>
 *   length  int32   bytes of type + body (so a record takes 8 + length bytes)
 *   crc     int32   CRC32C over the 4 length bytes, the type byte and the body
 *   type    byte    {@link RecordType#code()}
 *   body    length - 1 bytes
 * </pre>
 * The checksum covers the length too, so a damaged length is caught, not followed. A BATCH
 * record's checksum also covers the segment's random nonce (first), so no message content, which a
 * sender controls, can pass for a batch marker.
 */
final class RecordFormat {

    static final int HEADER_BYTES = 9; // length + crc + type
    /** The largest record this version writes or reads: a 1 GiB frame (the MAX_FRAME_SIZE ceiling) plus metadata. */
    static final int MAX_LENGTH = (1 << 30) + (1 << 20);

    private RecordFormat() {
    }

    static int size(int bodyLength) {
        return HEADER_BYTES + bodyLength;
    }

    /** Writes one record at the buffer's position. */
    static void write(ByteBuffer out, RecordType type, byte[] body) {
        int length = 1 + body.length;
        int start = out.position();
        out.putInt(length);
        out.putInt(0); // the checksum, filled in below
        out.put(type.code());
        out.put(body);
        out.putInt(start + 4, crc(out, start, length));
    }

    /** CRC32C of the record starting at {@code start}: its length field, then type and body. */
    static int crc(ByteBuffer buffer, int start, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(start, 4));
        crc.update(buffer.slice(start + 8, length));
        return (int) crc.getValue();
    }

    /** Writes a BATCH record (a batch marker) whose checksum is seeded with the segment's nonce. */
    static void writeMarker(ByteBuffer out, long nonce, long recordsLength, long writtenAtMillis) {
        int start = out.position();
        write(out, RecordType.BATCH, batchBody(recordsLength, writtenAtMillis));
        out.putInt(start + 4, markerCrc(out, start, nonce));
    }

    /** The checksum of the batch marker at {@code start}: CRC32C over the nonce, then as {@link #crc}. */
    static int markerCrc(ByteBuffer buffer, int start, long nonce) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(8).putLong(0, nonce));
        crc.update(buffer.slice(start, 4));
        crc.update(buffer.slice(start + 8, buffer.getInt(start)));
        return (int) crc.getValue();
    }

    /** A BATCH record body: the bytes of the records that follow in the batch, and when it was written. */
    static byte[] batchBody(long recordsLength, long writtenAtMillis) {
        return ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putLong(recordsLength).putLong(writtenAtMillis).array();
    }
}
