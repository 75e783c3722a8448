package org.mllpserver.delivery;

import java.time.Duration;

/**
 * Exponential backoff with jitter: the n-th retry waits a random time between half and all of
 * {@code min(maxDelay, initial * 2^(n-1))}. After {@code maxAttempts} attempts a record that still
 * fails becomes a dead letter.
 */
public record RetryPolicy(Duration initial, Duration maxDelay, int maxAttempts) {

    public RetryPolicy {
        if (initial.isNegative() || initial.isZero() || maxDelay.compareTo(initial) < 0 || maxAttempts < 1) {
            throw new IllegalArgumentException("retry: initial > 0, max delay >= initial, at least one attempt");
        }
    }

    public static final RetryPolicy DEFAULT = new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), 10);

    /** The wait before attempt {@code attempt + 1}, after {@code attempt} (1-based) failed; {@code random} in [0, 1). */
    public Duration delayAfter(int attempt, double random) {
        long ceiling = initial.toNanos();
        for (int i = 1; i < attempt && ceiling < maxDelay.toNanos(); i++) ceiling = Math.min(maxDelay.toNanos(), ceiling * 2);
        ceiling = Math.min(ceiling, maxDelay.toNanos());
        return Duration.ofNanos((long) (ceiling / 2.0 + random * ceiling / 2.0));
    }
}
