package org.mllpserver.telemetry;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;

import java.util.Collection;

/**
 * The pull reader behind {@code /metrics}: collects only when asked (a scrape), always cumulative,
 * as Prometheus expects. Before the meter provider registers it, and after it shuts down, a
 * collection is empty.
 *
 * <p>{@link #collect} may be called from any thread; callers serialise collections (see
 * {@link Telemetry#prometheusText()}) so that gauge callbacks never run twice at once.
 */
final class ScrapeReader implements MetricReader {

    private volatile CollectionRegistration registration = CollectionRegistration.noop();

    @Override
    public void register(CollectionRegistration registration) {
        this.registration = registration;
    }

    /** Every metric's current cumulative value (gauges: their callbacks run now). */
    Collection<MetricData> collect() {
        return registration.collectAllMetrics();
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
        return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
        return CompletableResultCode.ofSuccess(); // nothing is buffered: every collection is on demand
    }

    @Override
    public CompletableResultCode shutdown() {
        registration = CollectionRegistration.noop();
        return CompletableResultCode.ofSuccess();
    }
}
