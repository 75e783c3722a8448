package org.mllpserver.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading single records by position: across segments started after the first read, and refusing damage. */
class RecordReaderTest {

    @TempDir
    Path dir;

    @Test
    void readsARecordInASegmentStartedAfterItsFirstRead() throws IOException {
        try (Journal journal = Journal.open(new Journal.Settings(dir, 64 * 1024, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, RecordVisitor.NONE);
             RecordReader reader = new RecordReader(dir)) {
            long first = journal.append(RecordType.MESSAGE, bytes("first"));
            assertArrayEquals(bytes("first"), reader.read(first).body());
            long last = first;
            for (int i = 0; i < 100; i++) last = journal.append(RecordType.MESSAGE, bytes("x".repeat(2000) + i)); // several new segments
            assertTrue(Recovery.segmentFiles(dir).size() > 2, "the journal rolled");
            assertArrayEquals(bytes("x".repeat(2000) + 99), reader.read(last).body(), "found in a segment the reader had not listed");
            assertArrayEquals(bytes("first"), reader.read(first).body(), "and back");
        }
    }

    @Test
    void aPositionThatIsNotAWholeRecordOrAChangedByteIsDamage() throws IOException {
        long position;
        try (Journal journal = Journal.open(new Journal.Settings(dir, 1 << 20, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, RecordVisitor.NONE)) {
            position = journal.append(RecordType.MESSAGE, bytes("a message of some length"));
        }
        try (RecordReader reader = new RecordReader(dir)) {
            assertThrows(JournalDamagedException.class, () -> reader.read(position + 3), "not where a record starts");
        }
        Path segment = Recovery.segmentFiles(dir).getFirst();
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position + 12);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, position + 12);
        }
        try (RecordReader reader = new RecordReader(dir)) {
            JournalDamagedException e = assertThrows(JournalDamagedException.class, () -> reader.read(position));
            assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        }
        assertEquals(1, Recovery.segmentFiles(dir).size());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
