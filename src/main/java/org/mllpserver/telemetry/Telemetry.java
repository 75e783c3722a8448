package org.mllpserver.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporterBuilder;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import org.mllpserver.events.Events;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.System.Logger.Level.WARNING;

/**
 * Metrics: an {@link Events} listener that counts what the server reports, plus states read from
 * {@link Gauges} and the JVM's own figures, all in one OpenTelemetry meter provider with two
 * readers: one pulled by {@code /metrics} ({@link #prometheusText()}), and, when an endpoint is
 * configured, one that exports over OTLP (http/protobuf) every export interval. Without an
 * endpoint nothing leaves the process and nothing is waited for at close.
 *
 * <p>Instrument names and attributes are listed in {@link ServerMetrics} and {@link JvmMetrics};
 * every attribute value comes from a fixed set or from configuration, never from a message or a
 * peer. When exporting, the SDK's periodic reader adds its own collection time
 * ({@code otel.sdk.metric_reader.collection.duration}); the exporter's own metrics are off.
 *
 * <p><b>Threading.</b> The {@link Events} methods are called on the server's threads
 * (connections, the journal flusher, dispatchers); each returns at once, takes no lock and
 * allocates nothing of its own (the SDK's aggregation is lock-free for a known series).
 * {@link #prometheusText()} may be called from any thread; scrapes run one at a time.
 * {@link #close()} once, at shutdown.
 *
 * <p>OpenTelemetry is used only in this package: nothing of it appears in this API.
 */
public final class Telemetry implements Events, AutoCloseable {

    /** What {@link #prometheusText()} is, for the Content-Type of {@code /metrics}. */
    public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /**
     * Close waits at most this for the final export: a collector that is down or does not answer
     * must not hold up the server's exit, and the points it would get are at most one interval old.
     */
    public static final Duration CLOSE_DEADLINE = Duration.ofSeconds(5);
    /** One export's HTTP timeout, at most (OTEL_EXPORTER_OTLP_TIMEOUT's default); shorter when the interval is. */
    static final Duration EXPORT_TIMEOUT = Duration.ofSeconds(10);
    /** The instrumentation scope every instrument here belongs to. */
    static final String SCOPE = "org.mllpserver";
    static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

    private static final System.Logger LOG = System.getLogger(Telemetry.class.getName());

    private final SdkMeterProvider provider;
    private final ScrapeReader scrape = new ScrapeReader();
    private final Resource resource;
    private final boolean exporting;
    private final ServerMetrics server;
    private final JvmMetrics jvm;
    /** Scrapes one at a time: two at once would run every gauge callback twice at once for nothing. */
    private final ReentrantLock scraping = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Builds the instruments and, when {@code settings} has an endpoint, starts exporting to it.
     *
     * @param ruleNames the configured validation rules: failures of any other name are not counted
     * @param gauges    read only when metrics are collected; its connector names are read now, once
     * @param clock     for the certificate's remaining lifetime
     */
    public Telemetry(TelemetrySettings settings, Collection<String> ruleNames, Gauges gauges, Clock clock) {
        this.resource = resource(settings);
        this.exporting = settings.metricsEndpoint().isPresent();
        SdkMeterProviderBuilder builder = SdkMeterProvider.builder()
                .setResource(resource)
                // Exemplars point at traces; there are none here, and the check would be paid on every message.
                .setExemplarFilter(ExemplarFilter.alwaysOff())
                .registerMetricReader(scrape);
        settings.metricsEndpoint().ifPresent(endpoint -> builder.registerMetricReader(exportingReader(settings, endpoint)));
        this.provider = builder.build();
        try {
            Meter meter = provider.get(SCOPE);
            this.server = new ServerMetrics(meter, List.copyOf(ruleNames), gauges, clock);
            this.jvm = new JvmMetrics(meter);
        } catch (RuntimeException | Error e) {
            shutDown(); // the exporting reader's thread would otherwise outlive the failed start
            throw e;
        }
    }

    /** The resource: the SDK's own attributes (telemetry.sdk.*), then the configured ones, then service.name. */
    static Resource resource(TelemetrySettings settings) {
        AttributesBuilder attributes = Attributes.builder();
        settings.resourceAttributes().forEach(attributes::put);
        attributes.put(SERVICE_NAME, settings.serviceName());
        return Resource.getDefault().merge(Resource.create(attributes.build()));
    }

    /**
     * Exports are cumulative: each carries every total so far, so one that fails is made good by
     * the next. Hence no retries (they would only pile up behind a collector that is down, and
     * hold up close), and no export may take longer than the interval, after which the next one
     * carries the same totals and more.
     */
    private static MetricReader exportingReader(TelemetrySettings settings, URI endpoint) {
        Duration timeout = settings.exportInterval().compareTo(EXPORT_TIMEOUT) < 0 ? settings.exportInterval() : EXPORT_TIMEOUT;
        OtlpHttpMetricExporterBuilder exporter = OtlpHttpMetricExporter.builder()
                .setEndpoint(endpoint.toString())
                .setTimeout(timeout)
                .setRetryPolicy(null)
                // The exporter's own metrics would otherwise go to GlobalOpenTelemetry: no hidden globals.
                .setMeterProvider(MeterProvider.noop());
        settings.headers().forEach(exporter::addHeader);
        return PeriodicMetricReader.builder(exporter.build()).setInterval(settings.exportInterval()).build();
    }

    /** True when metrics are exported over OTLP (an endpoint is configured). */
    boolean exporting() {
        return exporting;
    }

    /**
     * Every metric's current value in the Prometheus text format 0.0.4 (see
     * {@link #PROMETHEUS_CONTENT_TYPE}); gauges are read now. After {@link #close()}, only
     * {@code target_info}.
     */
    public String prometheusText() {
        scraping.lock();
        try {
            return PrometheusText.render(scrape.collect(), resource);
        } finally {
            scraping.unlock();
        }
    }

    /**
     * Stops the instruments and, when exporting, sends the last points: returns within
     * {@link #CLOSE_DEADLINE} whatever the collector does, at once when nothing is exported.
     * Facts reported afterwards are not counted. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        jvm.close();
        shutDown();
    }

    /** Ends the meter provider: at once without an endpoint, else within {@link #CLOSE_DEADLINE}. */
    private void shutDown() {
        if (!exporting) {
            provider.shutdown(); // only the pull reader: nothing to send, returns at once
            return;
        }
        // PeriodicMetricReader.shutdown() blocks before it returns (up to 5 s for its scheduler, 5 s
        // for an export in flight, 5 s for the last one): only its own thread bounds the wait. A
        // daemon thread, so an export still hanging cannot keep the process alive.
        Thread shutdown = Thread.ofPlatform().daemon().name("telemetry-close").start(provider::shutdown);
        try {
            if (!shutdown.join(CLOSE_DEADLINE)) {
                LOG.log(WARNING, "metrics: the last export did not finish within " + CLOSE_DEADLINE.toMillis()
                        + " ms; not waiting for it any longer (its points may be lost)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the caller is shutting down too: stop waiting, keep the flag
        }
    }

    @Override
    public void frameAnswered(FrameAnswered event) {
        server.frameAnswered(event);
    }

    @Override
    public void ackWritten(String listener, long nanos) {
        server.ackWritten(listener, nanos);
    }

    @Override
    public void rulesEvaluated(long nanos, List<String> failedRules) {
        server.rulesEvaluated(nanos, failedRules);
    }

    @Override
    public void connectionOpened(String listener, ConnectionOutcome outcome) {
        server.connectionOpened(listener, outcome);
    }

    @Override
    public void connectionClosed(String listener) {
        server.connectionClosed(listener);
    }

    @Override
    public void journalForced(int records, long bytes, long nanos) {
        server.journalForced(records, bytes, nanos);
    }

    @Override
    public void delivery(Delivery event) {
        server.delivery(event);
    }
}
