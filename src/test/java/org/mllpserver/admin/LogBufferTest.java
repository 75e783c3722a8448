package org.mllpserver.admin;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogBufferTest {

    private static final Formatter PLAIN = new Formatter() {
        @Override
        public String format(LogRecord record) {
            return record.getLevel() + " " + record.getMessage() + "\n";
        }
    };

    private static void log(LogBuffer buffer, Level level, String text) {
        buffer.publish(new LogRecord(level, text));
    }

    @Test
    void keepsOnlyTheNewestLinesAndCutsLongOnes() {
        LogBuffer buffer = new LogBuffer(100, PLAIN);
        for (int i = 0; i < 10_000; i++) log(buffer, Level.INFO, "line " + i);
        List<LogBuffer.Line> all = buffer.recent(Level.ALL, Integer.MAX_VALUE);
        assertEquals(100, all.size(), "bounded by its size whatever was logged");
        assertEquals("INFO line 9900", all.getFirst().text());
        assertEquals("INFO line 9999", all.getLast().text());
        assertEquals(9999, buffer.newest());

        log(buffer, Level.WARNING, "x".repeat(1_000_000));
        String cut = buffer.recent(Level.ALL, 1).getFirst().text();
        assertEquals(LogBuffer.MAX_LINE_CHARS + " [cut]".length(), cut.length(), "a line is held to 8 KiB");
        assertTrue(cut.endsWith(" [cut]"));
    }

    @Test
    void filtersByLevelAndLimit() {
        LogBuffer buffer = new LogBuffer(50, PLAIN);
        log(buffer, Level.FINE, "debug");
        log(buffer, Level.INFO, "info");
        log(buffer, Level.WARNING, "warning");
        log(buffer, Level.SEVERE, "error");
        assertEquals(List.of("WARNING warning", "SEVERE error"),
                buffer.recent(LogBuffer.levelOf("warning"), 10).stream().map(LogBuffer.Line::text).toList());
        assertEquals(List.of("SEVERE error"), buffer.recent(Level.ALL, 1).stream().map(LogBuffer.Line::text).toList());
        assertEquals("DEBUG", buffer.recent(Level.ALL, 10).getFirst().level());
        assertEquals(List.of("INFO info", "WARNING warning"),
                buffer.after(0, Level.INFO, 10).stream().map(LogBuffer.Line::text).toList().subList(0, 2), "after the first line");
        assertThrows(IllegalArgumentException.class, () -> LogBuffer.levelOf("LOUD"));
        assertThrows(IllegalArgumentException.class, () -> new LogBuffer(0, PLAIN));
    }

    @Test
    void aReaderWaitsForTheNextLine() throws Exception {
        LogBuffer buffer = new LogBuffer(10, PLAIN);
        log(buffer, Level.INFO, "first");
        long seen = buffer.newest();
        assertEquals(seen, buffer.awaitAfter(seen, 1), "nothing new: returns after the wait");
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicLong woke = new AtomicLong(-1);
        Thread reader = Thread.ofPlatform().start(() -> {
            waiting.countDown();
            try {
                woke.set(buffer.awaitAfter(seen, TimeUnit.SECONDS.toMillis(30)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiting.await();
        log(buffer, Level.INFO, "second");
        reader.join(TimeUnit.SECONDS.toMillis(30));
        assertEquals(seen + 1, woke.get());
        assertEquals("INFO second", buffer.after(seen, Level.ALL, 10).getFirst().text());
    }

    @Test
    void aFormatterThatThrowsStillLeavesALine() {
        LogBuffer buffer = new LogBuffer(5, new Formatter() {
            @Override
            public String format(LogRecord record) {
                throw new IllegalStateException("broken");
            }
        });
        log(buffer, Level.INFO, "anything");
        assertTrue(buffer.recent(Level.ALL, 1).getFirst().text().contains("could not be formatted"));
    }
}
