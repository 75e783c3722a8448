package org.mllpserver.journal;

import java.time.Clock;
import java.util.UUID;
import java.util.random.RandomGenerator;

/**
 * Record ids: UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Unique
 * across journals and restarts (a downstream that drops repeats by id must never see an old id
 * reused because a DATA_DIR was wiped), and roughly time-ordered, so ids sort like the journal.
 *
 * <p>Thread-safe when the random generator is (SecureRandom is).
 */
public final class RecordIds {

    private final Clock clock;
    private final RandomGenerator random;

    public RecordIds(Clock clock, RandomGenerator random) {
        this.clock = clock;
        this.random = random;
    }

    public UUID next() {
        long millis = clock.millis() & 0xFFFF_FFFF_FFFFL;
        long high = (millis << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
        long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(high, low);
    }
}
