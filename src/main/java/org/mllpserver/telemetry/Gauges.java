package org.mllpserver.telemetry;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Values that are states rather than events, read from whoever holds them (the composition root
 * implements this over the journal, the delivery service, the dead letter index and the TLS
 * material). Read only when metrics are collected (a scrape of {@code /metrics} or an OTLP
 * export), on the collecting thread, so each method must be cheap and safe to call from any
 * thread; it must not block on I/O and must not throw (the SDK would log it and drop that whole
 * instrument's values for the collection).
 */
public interface Gauges {

    /** Bytes the journal's segment files take now. */
    long journalBytes();

    /** The configured connectors' names. Read once, when {@link Telemetry} is built: no other connector is ever reported. */
    List<String> connectors();

    /**
     * Records in the journal that {@code connector} has yet to pass (deliver, dead-letter, or
     * step over when not addressed to it).
     */
    long backlog(String connector);

    /** How long the oldest record addressed to {@code connector} and not delivered yet has waited; zero when none waits. */
    Duration lag(String connector);

    /** Dead letters of {@code connector} neither replayed nor purged. */
    long openDeadLetters(String connector);

    /** The serving certificate's notAfter, when TLS is on (the one in use now: a reload changes it). */
    Optional<Instant> certificateNotAfter();

    /** No journal, no connectors, no TLS: for tools and tests that have none of them. */
    Gauges NONE = new Gauges() {
        @Override
        public long journalBytes() {
            return 0;
        }

        @Override
        public List<String> connectors() {
            return List.of();
        }

        @Override
        public long backlog(String connector) {
            return 0;
        }

        @Override
        public Duration lag(String connector) {
            return Duration.ZERO;
        }

        @Override
        public long openDeadLetters(String connector) {
            return 0;
        }

        @Override
        public Optional<Instant> certificateNotAfter() {
            return Optional.empty();
        }
    };
}
