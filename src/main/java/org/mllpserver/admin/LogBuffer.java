package org.mllpserver.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * The most recent log lines ({@code LOG_BUFFER_LINES}), kept in memory for {@code /api/logs} and
 * {@code ./run.sh logs}: the same lines as the log stream (so the same rule: no message content
 * unless LOG_PAYLOADS), each cut at {@link #MAX_LINE_CHARS}. A java.util.logging handler on the
 * root logger, beside the console's. Thread-safe; a reader may wait for lines after the last it saw.
 */
public final class LogBuffer extends Handler {

    /** A line longer than this is cut (a stack trace, a long reason): the buffer's memory is lines × this at most. */
    public static final int MAX_LINE_CHARS = 8 * 1024;

    /** One line as the log stream wrote it. */
    public record Line(long sequence, long epochMillis, String level, String text) {}

    private final Line[] ring;
    private final Formatter formatter;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition added = lock.newCondition();
    private long next; // guarded by lock: the sequence number of the next line

    public LogBuffer(int lines, Formatter formatter) {
        if (lines < 1) throw new IllegalArgumentException("a log buffer holds at least one line");
        this.ring = new Line[lines];
        this.formatter = formatter;
        setLevel(Level.ALL);
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) return;
        String text;
        try {
            text = formatter.format(record).stripTrailing();
        } catch (RuntimeException e) {
            text = "(a log line that could not be formatted: " + e + ")";
        }
        if (text.length() > MAX_LINE_CHARS) text = text.substring(0, MAX_LINE_CHARS) + " [cut]";
        String level = levelName(record.getLevel());
        lock.lock();
        try {
            ring[(int) (next % ring.length)] = new Line(next, record.getMillis(), level, text);
            next++;
            added.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The last {@code limit} lines at {@code minLevel} or above, oldest first. */
    public List<Line> recent(Level minLevel, int limit) {
        return after(-1, minLevel, limit);
    }

    /** Lines after {@code sequence} at {@code minLevel} or above (at most {@code limit}, the newest), oldest first. */
    public List<Line> after(long sequence, Level minLevel, int limit) {
        lock.lock();
        try {
            List<Line> out = new ArrayList<>();
            long first = Math.max(Math.max(0, next - ring.length), sequence + 1);
            for (long s = next - 1; s >= first && out.size() < limit; s--) {
                Line line = ring[(int) (s % ring.length)];
                if (levelOf(line.level()).intValue() >= minLevel.intValue()) out.add(line);
            }
            return out.reversed();
        } finally {
            lock.unlock();
        }
    }

    /** Waits (up to {@code millis}) for a line after {@code sequence}; returns the sequence of the newest line. */
    public long awaitAfter(long sequence, long millis) throws InterruptedException {
        lock.lock();
        try {
            long remaining = TimeUnit.MILLISECONDS.toNanos(millis);
            while (next - 1 <= sequence && remaining > 0) remaining = added.awaitNanos(remaining);
            return next - 1;
        } finally {
            lock.unlock();
        }
    }

    /** The sequence of the newest line, -1 when none. */
    public long newest() {
        lock.lock();
        try {
            return next - 1;
        } finally {
            lock.unlock();
        }
    }

    /** ERROR, WARNING, INFO, DEBUG or TRACE, as the log stream names levels. */
    public static String levelName(Level level) {
        if (level.intValue() >= Level.SEVERE.intValue()) return "ERROR";
        if (level.intValue() >= Level.WARNING.intValue()) return "WARNING";
        if (level.intValue() >= Level.INFO.intValue()) return "INFO";
        if (level.intValue() >= Level.FINE.intValue()) return "DEBUG";
        return "TRACE";
    }

    /** The java.util.logging level of a name as above (or a JUL name); throws for anything else. */
    public static Level levelOf(String name) {
        return switch (name.strip().toUpperCase(java.util.Locale.ROOT)) {
            case "ERROR", "SEVERE" -> Level.SEVERE;
            case "WARNING", "WARN" -> Level.WARNING;
            case "INFO" -> Level.INFO;
            case "DEBUG", "FINE" -> Level.FINE;
            case "TRACE", "FINER", "FINEST", "ALL" -> Level.ALL;
            default -> throw new IllegalArgumentException("'" + name + "' is not a level: ERROR, WARNING, INFO, DEBUG or TRACE");
        };
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
