package org.mllpserver.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.LongUpDownCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleMeasurement;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import org.mllpserver.events.Events;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The server's own instruments ({@code mllp.*}): what each reported fact counts, and the states
 * read from {@link Gauges} when metrics are collected.
 *
 * <p><b>Cardinality.</b> Every attribute value comes from a fixed set (ack codes, HL7 table 0076
 * or {@code other}, outcomes, the listeners {@code plain} and {@code tls}) or from configuration
 * (rule and connector names, given at construction); a fact naming anything else is not counted
 * under that name: an unknown message type counts as {@code other}, an unknown rule, connector or
 * listener is not counted at all. Nothing from a fact's free text (MSH-10, the peer, reasons)
 * ever becomes an attribute. Every attribute set is built here, once: recording a fact allocates
 * nothing beyond what the SDK does.
 *
 * <p>Thread-safe; every method returns at once and never throws, whatever the names and codes it
 * is given, null included (the {@link Events} contract).
 */
final class ServerMetrics implements Events {

    static final AttributeKey<String> ACK_CODE = AttributeKey.stringKey("ack_code");
    static final AttributeKey<String> MSG_TYPE = AttributeKey.stringKey("msg_type");
    static final AttributeKey<String> LISTENER = AttributeKey.stringKey("listener");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
    static final AttributeKey<String> RULE = AttributeKey.stringKey("rule");
    static final AttributeKey<String> CONNECTOR = AttributeKey.stringKey("connector");

    /** MSA-1 values, then {@code none} (no answer sent) and {@code other} (not one of those: a caller's bug, still counted). */
    static final List<String> ACK_CODES = List.of("AA", "AR", "AE", "CA", "CR", "CE", "none", "other");
    static final List<String> LISTENERS = List.of("plain", "tls");
    private static final int PLAIN_LISTENER = LISTENERS.indexOf("plain");
    private static final int TLS_LISTENER = LISTENERS.indexOf("tls");
    static final String HANDSHAKE_SUCCEEDED = "succeeded";
    static final String HANDSHAKE_FAILED = "failed";

    /**
     * Seconds, 50 µs to 10 s: an fsync here takes 0.1-0.2 ms (p50) and an answer 0.25-0.3 ms, so
     * the low buckets separate the disk from the rest; 10 s is past any sender's ACK timeout.
     */
    static final List<Double> DURATION_BUCKETS = List.of(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
            0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0);
    /** Seconds, 1 µs to 10 ms: header rules take under 1 µs, list macros over 20 OBX 10-20 µs, five typical rules 30-50 µs. */
    static final List<Double> RULE_BUCKETS = List.of(0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001,
            0.00025, 0.0005, 0.001, 0.0025, 0.01);
    /** Records per forced batch, powers of two: a batch holds at most 1 MiB, a few thousand small messages. */
    static final List<Long> BATCH_BUCKETS = List.of(1L, 2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 512L, 1024L, 2048L, 4096L);

    private final LongUpDownCounter connectionsActive;
    private final LongCounter connectionsOpened;
    private final LongCounter handshakes;
    private final LongCounter messages;
    private final LongCounter duplicates;
    private final DoubleHistogram ackDuration;
    private final DoubleHistogram forceDuration;
    private final LongHistogram batchRecords;
    private final DoubleHistogram rulesDuration;
    private final LongCounter ruleFailures;
    private final LongCounter deliveryAttempts;
    private final DoubleHistogram deliveryDuration;

    private final Attributes[][] messageAttributes;            // [ack code][message type]
    private final Attributes[] listenerAttributes;             // [listener]
    private final Attributes[][] openedAttributes;             // [listener][ConnectionOutcome]
    private final Attributes handshakeSucceeded = Attributes.of(OUTCOME, HANDSHAKE_SUCCEEDED);
    private final Attributes handshakeFailed = Attributes.of(OUTCOME, HANDSHAKE_FAILED);
    private final Map<String, Attributes> ruleAttributes;
    private final Map<String, Attributes> connectorAttributes;
    private final Map<String, Attributes[]> attemptAttributes; // connector -> [DeliveryOutcome]

    ServerMetrics(Meter meter, Collection<String> ruleNames, Gauges gauges, Clock clock) {
        connectionsActive = meter.upDownCounterBuilder("mllp.server.connections.active").setUnit("{connection}")
                .setDescription("Connections open now, per listener").build();
        connectionsOpened = meter.counterBuilder("mllp.server.connections.opened").setUnit("{connection}")
                .setDescription("Connection attempts, per listener and how they ended").build();
        handshakes = meter.counterBuilder("mllp.tls.handshakes").setUnit("{handshake}")
                .setDescription("TLS handshakes on the tls listener, per outcome").build();
        messages = meter.counterBuilder("mllp.server.messages").setUnit("{message}")
                .setDescription("Frames answered, per MSA-1 code and MSH-9.1 (HL7 table 0076, else other)").build();
        duplicates = meter.counterBuilder("mllp.server.duplicates").setUnit("{message}")
                .setDescription("Frames accepted before within the duplicate window, answered as then and not stored again").build();
        ackDuration = seconds(meter, "mllp.server.ack.duration", "From a frame complete to its answer written", DURATION_BUCKETS);
        forceDuration = seconds(meter, "mllp.journal.force.duration", "Journal batch write and force", DURATION_BUCKETS);
        batchRecords = meter.histogramBuilder("mllp.journal.batch.records").ofLongs().setUnit("{record}")
                .setDescription("Records per forced journal batch").setExplicitBucketBoundariesAdvice(BATCH_BUCKETS).build();
        rulesDuration = seconds(meter, "mllp.rules.evaluation.duration", "Validation rules and connector filters on one message", RULE_BUCKETS);
        ruleFailures = meter.counterBuilder("mllp.rules.failures").setUnit("{message}")
                .setDescription("Messages a validation rule failed, per configured rule").build();
        deliveryAttempts = meter.counterBuilder("mllp.delivery.attempts").setUnit("{attempt}")
                .setDescription("Delivery attempts, per connector and outcome").build();
        deliveryDuration = seconds(meter, "mllp.delivery.duration", "One delivery attempt, per connector", DURATION_BUCKETS);

        messageAttributes = messageAttributes();
        listenerAttributes = LISTENERS.stream().map(l -> Attributes.of(LISTENER, l)).toArray(Attributes[]::new);
        openedAttributes = LISTENERS.stream().map(l -> outcomes(ConnectionOutcome.values(), o -> Attributes.of(LISTENER, l, OUTCOME, lower(o))))
                .toArray(Attributes[][]::new);
        ruleAttributes = byName(ruleNames, name -> Attributes.of(RULE, name));
        List<String> connectors = List.copyOf(gauges.connectors());
        connectorAttributes = byName(connectors, name -> Attributes.of(CONNECTOR, name));
        attemptAttributes = byName(connectors, name -> outcomes(DeliveryOutcome.values(), o -> Attributes.of(CONNECTOR, name, OUTCOME, lower(o))));
        startAtZero();
        observe(meter, gauges, clock);
    }

    private static DoubleHistogram seconds(Meter meter, String name, String description, List<Double> buckets) {
        // Buckets as advice on the instrument rather than a View: they stay next to the instrument they were chosen for.
        return meter.histogramBuilder(name).setUnit("s").setDescription(description).setExplicitBucketBoundariesAdvice(buckets).build();
    }

    private static Attributes[][] messageAttributes() {
        Attributes[][] table = new Attributes[ACK_CODES.size()][MessageTypes.OTHER_INDEX + 1];
        for (int ack = 0; ack < table.length; ack++) {
            for (int type = 0; type < table[ack].length; type++) {
                table[ack][type] = Attributes.of(ACK_CODE, ACK_CODES.get(ack), MSG_TYPE, MessageTypes.name(type));
            }
        }
        return table;
    }

    private static <E extends Enum<E>> Attributes[] outcomes(E[] values, Function<E, Attributes> attributes) {
        Attributes[] byOrdinal = new Attributes[values.length];
        for (E value : values) byOrdinal[value.ordinal()] = attributes.apply(value);
        return byOrdinal;
    }

    /** A HashMap (wrapped): its get answers null for a null name, where Map.copyOf's would throw. */
    private static <T> Map<String, T> byName(Collection<String> names, Function<String, T> value) {
        Map<String, T> map = new HashMap<>();
        for (String name : names) map.put(name, value.apply(name));
        return Collections.unmodifiableMap(map);
    }

    static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /**
     * Counters whose series are known in advance start at 0, so the first failure of a rule or the
     * first dead letter shows as an increase (a series that appears at 1 has no increase to show).
     */
    private void startAtZero() {
        duplicates.add(0);
        ruleAttributes.values().forEach(a -> ruleFailures.add(0, a));
        attemptAttributes.values().forEach(all -> {
            for (Attributes a : all) deliveryAttempts.add(0, a);
        });
    }

    /** Gauges: callbacks that read {@code gauges} when metrics are collected, never before. */
    private void observe(Meter meter, Gauges gauges, Clock clock) {
        meter.gaugeBuilder("mllp.journal.size").ofLongs().setUnit("By").setDescription("Bytes the journal's segment files take")
                .buildWithCallback(m -> m.record(gauges.journalBytes()));
        meter.gaugeBuilder("mllp.delivery.backlog").ofLongs().setUnit("{record}")
                .setDescription("Records addressed to a connector and not delivered yet")
                .buildWithCallback(m -> perConnector(m, gauges::backlog));
        meter.gaugeBuilder("mllp.delivery.lag").setUnit("s")
                .setDescription("Age of the oldest record addressed to a connector and not delivered yet")
                .buildWithCallback(m -> perConnectorSeconds(m, gauges::lag));
        meter.gaugeBuilder("mllp.dead_letters.open").ofLongs().setUnit("{dead_letter}")
                .setDescription("Dead letters neither replayed nor purged, per connector")
                .buildWithCallback(m -> perConnector(m, gauges::openDeadLetters));
        meter.gaugeBuilder("mllp.tls.certificate.expiry").setUnit("s")
                .setDescription("Seconds until the serving certificate's notAfter (negative once expired)")
                .buildWithCallback(m -> gauges.certificateNotAfter().ifPresent(notAfter -> m.record(secondsUntil(clock.instant(), notAfter))));
    }

    private void perConnector(ObservableLongMeasurement m, ToLongFunction<String> value) {
        connectorAttributes.forEach((connector, attributes) -> m.record(value.applyAsLong(connector), attributes));
    }

    private void perConnectorSeconds(ObservableDoubleMeasurement m, Function<String, Duration> value) {
        connectorAttributes.forEach((connector, attributes) -> m.record(value.apply(connector).toNanos() / 1e9, attributes));
    }

    private static double secondsUntil(Instant now, Instant then) {
        return Duration.between(now, then).toMillis() / 1e3;
    }

    @Override
    public void frameAnswered(FrameAnswered event) {
        messages.add(1, messageAttributes[ackIndex(event.ackCode())][MessageTypes.index(event.messageType())]);
        if (event.outcome() == FrameOutcome.DUPLICATE) duplicates.add(1);
    }

    /** The index of {@code ackCode} in {@link #ACK_CODES}: a switch, so that no lookup allocates. */
    static int ackIndex(String ackCode) {
        return switch (ackCode) {
            case "AA" -> 0;
            case "AR" -> 1;
            case "AE" -> 2;
            case "CA" -> 3;
            case "CR" -> 4;
            case "CE" -> 5;
            case "none" -> 6;
            case null, default -> 7;
        };
    }

    @Override
    public void ackWritten(String listener, long nanos) {
        ackDuration.record(seconds(nanos));
    }

    @Override
    public void rulesEvaluated(long nanos, List<String> failedRules) {
        rulesDuration.record(seconds(nanos));
        if (failedRules == null || failedRules.isEmpty()) return; // the usual case: not even an iterator
        for (String rule : failedRules) {
            Attributes attributes = ruleAttributes.get(rule);
            if (attributes != null) ruleFailures.add(1, attributes);
        }
    }

    @Override
    public void connectionOpened(String listener, ConnectionOutcome outcome) {
        int index = listenerIndex(listener);
        if (index < 0 || outcome == null) return;
        connectionsOpened.add(1, openedAttributes[index][outcome.ordinal()]);
        if (outcome == ConnectionOutcome.ACCEPTED) connectionsActive.add(1, listenerAttributes[index]);
        // A tls connection is reported ACCEPTED once its handshake completed, TLS_FAILED when it did not
        // (OVER_LIMIT is refused before any handshake begins).
        if (index == TLS_LISTENER && outcome == ConnectionOutcome.ACCEPTED) handshakes.add(1, handshakeSucceeded);
        if (outcome == ConnectionOutcome.TLS_FAILED) handshakes.add(1, handshakeFailed);
    }

    @Override
    public void connectionClosed(String listener) {
        int index = listenerIndex(listener);
        if (index >= 0) connectionsActive.add(-1, listenerAttributes[index]);
    }

    private static int listenerIndex(String listener) {
        return switch (listener) {
            case "plain" -> PLAIN_LISTENER;
            case "tls" -> TLS_LISTENER;
            case null, default -> -1;
        };
    }

    @Override
    public void journalForced(int records, long bytes, long nanos) {
        forceDuration.record(seconds(nanos));
        batchRecords.record(records);
    }

    @Override
    public void delivery(Delivery event) {
        Attributes[] attempts = attemptAttributes.get(event.connector());
        if (attempts == null || event.outcome() == null) return;
        deliveryAttempts.add(1, attempts[event.outcome().ordinal()]);
        deliveryDuration.record(seconds(event.nanos()), connectorAttributes.get(event.connector()));
    }

    /** Never negative: the SDK drops a negative histogram value and logs a warning each time. */
    private static double seconds(long nanos) {
        return Math.max(0, nanos) / 1e9;
    }
}
