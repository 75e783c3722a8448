package org.mllpserver.hl7;

import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

/**
 * New message control ids for the server's own messages (ACK MSH-10, and MSA-2 when the
 * inbound MSH-10 is unreadable): 16 characters, within the 20 that MSH-10 allows in every
 * version. A random prefix chosen at start keeps ids unique across restarts; a counter keeps
 * them unique within a run. Never a timestamp, never a constant.
 *
 * <p>Thread-safe.
 */
public final class ControlIds {

    private static final int PREFIX_LENGTH = 8;
    private static final int COUNTER_LENGTH = 8;

    private final String prefix;
    private final AtomicLong counter = new AtomicLong();

    /** Production passes a SecureRandom; tests pass a seeded generator. */
    public ControlIds(RandomGenerator random) {
        this.prefix = base36(random.nextLong() >>> 1, PREFIX_LENGTH).toUpperCase(java.util.Locale.ROOT);
    }

    public String next() {
        return prefix + base36(counter.incrementAndGet(), COUNTER_LENGTH).toUpperCase(java.util.Locale.ROOT);
    }

    private static String base36(long value, int width) {
        String digits = Long.toString(value, 36);
        if (digits.length() >= width) return digits.substring(digits.length() - width);
        return "0".repeat(width - digits.length()) + digits;
    }
}
