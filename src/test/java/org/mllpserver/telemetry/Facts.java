package org.mllpserver.telemetry;

import org.mllpserver.events.Events;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/** Facts as the server reports them, and a {@link Gauges} with fixed values, for the telemetry tests. */
final class Facts {

    static final Instant NOW = Instant.parse("2026-12-10T08:00:00Z");
    /** Sender-controlled text that must never reach a metric. */
    static final String PEER = "203.0.113.77:49152";
    static final String CONTROL_ID_PREFIX = "MSGCTRL";

    private Facts() {
    }

    static Events.FrameAnswered frame(Events.FrameOutcome outcome, String ackCode, String messageType, int n) {
        return new Events.FrameAnswered(NOW, PEER, "", outcome, ackCode, "LAB", "HOSP", messageType, CONTROL_ID_PREFIX + n,
                Optional.of(UUID.randomUUID()), n, ("MSH|^~\\&|LAB|" + n).getBytes(StandardCharsets.ISO_8859_1), List.of());
    }

    static Events.Delivery delivery(String connector, Events.DeliveryOutcome outcome, long nanos) {
        return new Events.Delivery(NOW, connector, outcome, UUID.randomUUID(), 42, "ADT", CONTROL_ID_PREFIX + "D", 1, nanos,
                outcome == Events.DeliveryOutcome.DELIVERED ? "" : "HTTP 503 from " + PEER);
    }

    /** Connectors ehr and archive; counts every read so a test can see when gauges are evaluated. */
    static final class FixedGauges implements Gauges {
        final AtomicInteger reads = new AtomicInteger();
        final Map<String, Long> backlog = Map.of("ehr", 7L, "archive", 0L);
        final Map<String, Duration> lag = Map.of("ehr", Duration.ofMillis(2500), "archive", Duration.ZERO);
        final Map<String, Long> deadLetters = Map.of("ehr", 0L, "archive", 3L);
        final Instant notAfter = NOW.plus(Duration.ofDays(30));

        @Override
        public long journalBytes() {
            reads.incrementAndGet();
            return 123_456;
        }

        @Override
        public List<String> connectors() {
            return List.of("ehr", "archive");
        }

        @Override
        public long backlog(String connector) {
            reads.incrementAndGet();
            return backlog.get(connector);
        }

        @Override
        public Duration lag(String connector) {
            reads.incrementAndGet();
            return lag.get(connector);
        }

        @Override
        public long openDeadLetters(String connector) {
            reads.incrementAndGet();
            return deadLetters.get(connector);
        }

        @Override
        public Optional<Instant> certificateNotAfter() {
            reads.incrementAndGet();
            return Optional.of(notAfter);
        }
    }
}
