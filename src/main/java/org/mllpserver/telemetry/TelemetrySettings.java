package org.mllpserver.telemetry;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How metrics leave the process: the OTLP endpoint (none = no export at all), its headers, the
 * export interval, and the resource that names this process. The Prometheus {@code /metrics} view
 * needs no settings.
 *
 * @param metricsEndpoint    the URL metrics are POSTed to (http/protobuf); empty = no export, no traffic, nothing to wait for at close
 * @param headers            sent with every export (usually a credential: never logged, and {@link #toString()} hides the values)
 * @param exportInterval     time between exports
 * @param serviceName        the {@code service.name} resource attribute
 * @param resourceAttributes the other resource attributes (any {@code service.name} among them is overridden by {@code serviceName})
 */
public record TelemetrySettings(Optional<URI> metricsEndpoint, Map<String, String> headers, Duration exportInterval,
                                String serviceName, Map<String, String> resourceAttributes) {

    public static final String DEFAULT_SERVICE_NAME = "mllp-server";
    /** Every OpenTelemetry variable read here (the rest of the OTEL_* family is not used). */
    public static final List<String> VARIABLES = List.of("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES");
    /** The OpenTelemetry default (OTEL_METRIC_EXPORT_INTERVAL). */
    public static final Duration DEFAULT_EXPORT_INTERVAL = Duration.ofSeconds(60);
    /** More often than this costs the collector and this process a collection each time and shows nobody anything new. */
    static final Duration MIN_EXPORT_INTERVAL = Duration.ofMillis(100);
    /** Less often than this, a collector's series go stale between points (Prometheus marks them stale after 5 minutes). */
    static final Duration MAX_EXPORT_INTERVAL = Duration.ofMinutes(5);
    /** The only protocol the exporter here speaks: gRPC would need okhttp, which the build excludes. */
    static final String PROTOCOL = "http/protobuf";
    /** The OTLP/HTTP path for metrics, appended to OTEL_EXPORTER_OTLP_ENDPOINT (the metrics-only variable is used as it is). */
    static final String METRICS_PATH = "v1/metrics";
    /** Headers the JDK's HttpClient sets itself and refuses from callers; refused here, at start, instead of at the first export. */
    private static final Set<String> RESTRICTED_HEADERS = Set.of("connection", "content-length", "expect", "host", "upgrade");

    public TelemetrySettings {
        Objects.requireNonNull(metricsEndpoint);
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        Objects.requireNonNull(exportInterval);
        Objects.requireNonNull(serviceName);
        resourceAttributes = Collections.unmodifiableMap(new LinkedHashMap<>(resourceAttributes));
    }

    /** No export; the defaults for the rest. */
    public static TelemetrySettings defaults() {
        return fromEnvironment(Map.of());
    }

    /**
     * The settings the OpenTelemetry variables in {@code env} describe. A variable set to the empty
     * string counts as not set (as the OpenTelemetry specification says).
     *
     * @throws Invalid listing every bad value at once
     */
    public static TelemetrySettings fromEnvironment(Map<String, String> env) {
        List<String> problems = new ArrayList<>();
        checkProtocol(env, problems);
        Optional<URI> endpoint = endpoint(env, problems);
        Map<String, String> headers = value(env, "OTEL_EXPORTER_OTLP_HEADERS")
                .map(text -> headers(text, problems)).orElse(Map.of());
        Duration interval = value(env, "OTEL_METRIC_EXPORT_INTERVAL")
                .map(text -> interval(text, problems)).orElse(DEFAULT_EXPORT_INTERVAL);
        Map<String, String> attributes = value(env, "OTEL_RESOURCE_ATTRIBUTES")
                .map(text -> KeyValueList.parse("OTEL_RESOURCE_ATTRIBUTES", text, problems)).orElse(Map.of());
        // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (the specification's order).
        String serviceName = value(env, "OTEL_SERVICE_NAME")
                .or(() -> Optional.ofNullable(attributes.get("service.name")).filter(s -> !s.isBlank()))
                .orElse(DEFAULT_SERVICE_NAME);
        if (!problems.isEmpty()) throw new Invalid(problems);
        Map<String, String> others = new LinkedHashMap<>(attributes);
        others.remove("service.name");
        return new TelemetrySettings(endpoint, headers, interval, serviceName, others);
    }

    /** The metrics protocol (its own variable first, then the general one) must be http/protobuf when set. */
    private static void checkProtocol(Map<String, String> env, List<String> problems) {
        String variable = value(env, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL").isPresent()
                ? "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
        value(env, variable).filter(p -> !p.equals(PROTOCOL)).ifPresent(p -> problems.add(variable + "='" + p
                + "' is not supported: metrics are exported with OTLP over HTTP as protobuf only (set it to "
                + PROTOCOL + " or leave it unset)"));
    }

    /** OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT with /v1/metrics appended, else none. */
    private static Optional<URI> endpoint(Map<String, String> env, List<String> problems) {
        Optional<String> metrics = value(env, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        if (metrics.isPresent()) return url("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics.get(), problems);
        return value(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
                .flatMap(base -> url("OTEL_EXPORTER_OTLP_ENDPOINT", base, problems))
                .map(TelemetrySettings::withMetricsPath);
    }

    private static Optional<URI> url(String variable, String text, List<String> problems) {
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) return Optional.of(uri);
        } catch (URISyntaxException e) {
            // reported below, with the same words as any other unusable URL
        }
        problems.add(variable + "='" + text + "' is not an http:// or https:// URL with a host");
        return Optional.empty();
    }

    /** The base endpoint's path with {@code v1/metrics} appended, as the OTLP exporter specification says. */
    static URI withMetricsPath(URI base) {
        String path = base.getRawPath() == null ? "" : base.getRawPath();
        String joined = (path.endsWith("/") ? path : path + "/") + METRICS_PATH;
        String query = base.getRawQuery() == null ? "" : "?" + base.getRawQuery();
        return URI.create(base.getScheme() + "://" + base.getRawAuthority() + joined + query);
    }

    private static Map<String, String> headers(String text, List<String> problems) {
        Map<String, String> headers = KeyValueList.parse("OTEL_EXPORTER_OTLP_HEADERS", text, problems);
        headers.forEach((name, value) -> {
            if (!isToken(name)) {
                problems.add("OTEL_EXPORTER_OTLP_HEADERS: '" + name + "' is not a valid HTTP header name");
            } else if (RESTRICTED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                problems.add("OTEL_EXPORTER_OTLP_HEADERS: '" + name + "' is set by the HTTP client and cannot be configured");
            } else if (value.chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f)) {
                problems.add("OTEL_EXPORTER_OTLP_HEADERS: the value of '" + name + "' contains control characters");
            }
        });
        return headers;
    }

    /** An HTTP token (RFC 9110): what a header name may be made of. */
    private static boolean isToken(String name) {
        return name.chars().allMatch(c -> c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0);
    }

    private static Duration interval(String text, List<String> problems) {
        try {
            Duration interval = Duration.ofMillis(Long.parseLong(text));
            if (interval.compareTo(MIN_EXPORT_INTERVAL) >= 0 && interval.compareTo(MAX_EXPORT_INTERVAL) <= 0) return interval;
            problems.add("OTEL_METRIC_EXPORT_INTERVAL='" + text + "' is out of range (" + MIN_EXPORT_INTERVAL.toMillis()
                    + " to " + MAX_EXPORT_INTERVAL.toMillis() + " ms)");
        } catch (NumberFormatException e) {
            problems.add("OTEL_METRIC_EXPORT_INTERVAL='" + text + "' is not a whole number of milliseconds");
        }
        return DEFAULT_EXPORT_INTERVAL;
    }

    private static Optional<String> value(Map<String, String> env, String variable) {
        return Optional.ofNullable(env.get(variable)).map(String::strip).filter(s -> !s.isEmpty());
    }

    /** Header values hidden: they are usually credentials, and settings get logged. */
    @Override
    public String toString() {
        String hidden = headers.keySet().stream().map(name -> name + "=<hidden>").collect(Collectors.joining(", ", "{", "}"));
        return "TelemetrySettings[metricsEndpoint=" + metricsEndpoint.map(URI::toString).orElse("none") + ", headers=" + hidden
                + ", exportInterval=" + exportInterval + ", serviceName=" + serviceName + ", resourceAttributes=" + resourceAttributes + "]";
    }

    /** Every problem found in the telemetry variables, one line each, naming its variable. */
    public static final class Invalid extends IllegalArgumentException {
        private final List<String> problems;

        Invalid(List<String> problems) {
            super(String.join("\n", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }
}
