package org.mllpserver.telemetry;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.resources.Resource;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Collected metrics in the Prometheus text exposition format 0.0.4, mapped as OpenTelemetry's
 * "Prometheus and OpenMetrics compatibility" specification says:
 * <ul>
 * <li>names: characters other than {@code [a-zA-Z0-9_:]} become {@code _} (runs of {@code _}
 *     collapse to one), then the unit's suffix ({@code s} → {@code _seconds}, {@code By} →
 *     {@code _bytes}, {@code 1} on a gauge → {@code _ratio}; an annotation such as
 *     {@code {record}} adds nothing), then {@code _total} on a monotonic sum;</li>
 * <li>types: monotonic sums are counters, other sums and gauges are gauges, histograms are
 *     histograms ({@code _bucket{le=...}} cumulative and ending with {@code +Inf}, {@code _sum},
 *     {@code _count});</li>
 * <li>attributes become labels the same way as names; the resource becomes one
 *     {@code target_info} gauge of value 1 whose labels are its attributes;</li>
 * <li>one {@code # HELP} and one {@code # TYPE} line before each family's samples; no
 *     timestamps (the scraper's time is the sample's).</li>
 * </ul>
 * Scope labels ({@code otel_scope_name}) are left out: every instrument here belongs to one scope.
 *
 * <p>Written here rather than taken from {@code opentelemetry-exporter-prometheus}: that artifact
 * is still alpha and lags the SDK (1.66.0-alpha while the SDK is at 1.68.0), and it brings the
 * Prometheus client library and an HTTP server of its own where the admin server already serves
 * {@code /metrics}.
 */
final class PrometheusText {

    private static final String TARGET_INFO = "target_info";
    /** UCUM units as Prometheus spells them (the specification's table, the units anyone uses). */
    private static final Map<String, String> UNITS = Map.ofEntries(
            Map.entry("d", "days"), Map.entry("h", "hours"), Map.entry("min", "minutes"), Map.entry("s", "seconds"),
            Map.entry("ms", "milliseconds"), Map.entry("us", "microseconds"), Map.entry("ns", "nanoseconds"),
            Map.entry("By", "bytes"), Map.entry("KiBy", "kibibytes"), Map.entry("MiBy", "mebibytes"),
            Map.entry("GiBy", "gibibytes"), Map.entry("KBy", "kilobytes"), Map.entry("MBy", "megabytes"),
            Map.entry("GBy", "gigabytes"), Map.entry("Hz", "hertz"), Map.entry("%", "percent"));
    /** The denominators of {@code x/y} units: {@code By/s} → {@code bytes_per_second}. */
    private static final Map<String, String> PER_UNITS = Map.of("s", "second", "min", "minute", "h", "hour", "d", "day");
    private static final Pattern INVALID = Pattern.compile("[^a-zA-Z0-9_:]");
    private static final Pattern UNDERSCORES = Pattern.compile("__+");
    private static final Pattern ANNOTATION = Pattern.compile("\\{[^}]*}");

    private enum Type { COUNTER, GAUGE, HISTOGRAM }

    private record Family(String name, Type type, String help, List<MetricData> metrics) {}

    private PrometheusText() {
    }

    static String render(Collection<MetricData> metrics, Resource resource) {
        StringBuilder out = new StringBuilder(8192);
        targetInfo(out, resource);
        for (Family family : families(metrics)) {
            out.append("# HELP ").append(family.name()).append(' ').append(escapeHelp(family.help())).append('\n');
            out.append("# TYPE ").append(family.name()).append(' ').append(family.type().name().toLowerCase(Locale.ROOT)).append('\n');
            for (MetricData metric : family.metrics()) samples(out, family, metric);
        }
        return out.toString();
    }

    private static void targetInfo(StringBuilder out, Resource resource) {
        out.append("# HELP ").append(TARGET_INFO).append(" Target metadata\n");
        out.append("# TYPE ").append(TARGET_INFO).append(" gauge\n");
        sample(out, TARGET_INFO, labels(resource.getAttributes()), "1");
    }

    /**
     * Metrics grouped by their Prometheus name, sorted by it. Two metrics that map to one name
     * share the family if they have its type; one of another type is left out, since one name
     * cannot have two types.
     */
    private static Collection<Family> families(Collection<MetricData> metrics) {
        Map<String, Family> families = new TreeMap<>();
        for (MetricData metric : metrics) {
            Optional<Type> type = type(metric);
            if (type.isEmpty()) continue;
            String name = name(metric, type.get());
            Family family = families.computeIfAbsent(name, n -> new Family(n, type.get(), metric.getDescription(), new ArrayList<>()));
            if (family.type() == type.get()) family.metrics().add(metric);
        }
        return families.values();
    }

    private static Optional<Type> type(MetricData metric) {
        return switch (metric.getType()) {
            case LONG_SUM -> Optional.of(metric.getLongSumData().isMonotonic() ? Type.COUNTER : Type.GAUGE);
            case DOUBLE_SUM -> Optional.of(metric.getDoubleSumData().isMonotonic() ? Type.COUNTER : Type.GAUGE);
            case LONG_GAUGE, DOUBLE_GAUGE -> Optional.of(Type.GAUGE);
            case HISTOGRAM -> Optional.of(Type.HISTOGRAM);
            // No instrument here aggregates these (no view asks for them); they have no 0.0.4 form worth guessing at.
            case EXPONENTIAL_HISTOGRAM, SUMMARY -> Optional.empty();
        };
    }

    /** The metric's name, then its unit, then {@code _total} for a counter, each added only if not already at the end. */
    private static String name(MetricData metric, Type type) {
        String name = sanitize(metric.getName());
        String unit = unitSuffix(metric.getUnit(), type);
        if (!unit.isEmpty() && !name.endsWith("_" + unit)) name = name + "_" + unit;
        if (type == Type.COUNTER && !name.endsWith("_total")) name = name + "_total";
        return name;
    }

    private static String unitSuffix(String unit, Type type) {
        String bare = unit == null ? "" : ANNOTATION.matcher(unit).replaceAll("").strip(); // {record}: an annotation, not a unit
        if (bare.isEmpty()) return "";
        if (bare.equals("1")) return type == Type.GAUGE ? "ratio" : "";
        int slash = bare.indexOf('/');
        if (slash >= 0) {
            String per = PER_UNITS.getOrDefault(bare.substring(slash + 1), bare.substring(slash + 1));
            return sanitize(UNITS.getOrDefault(bare.substring(0, slash), bare.substring(0, slash)) + "_per_" + per);
        }
        return sanitize(UNITS.getOrDefault(bare, bare));
    }

    /** A valid metric or label name: {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, without runs of underscores. */
    static String sanitize(String name) {
        if (isValid(name)) return name; // every name here but the dotted ones: no regex, no copy
        String valid = INVALID.matcher(name).replaceAll("_");
        valid = UNDERSCORES.matcher(valid).replaceAll("_");
        return !valid.isEmpty() && Character.isDigit(valid.charAt(0)) ? "_" + valid : valid;
    }

    private static boolean isValid(String name) {
        if (name.isEmpty() || Character.isDigit(name.charAt(0))) return false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':'
                    || (c == '_' && (i == 0 || name.charAt(i - 1) != '_'));
            if (!ok) return false;
        }
        return true;
    }

    /** A point with its labels rendered once ({@code a="x",b="y"}, without braces; empty when it has none). */
    private record Series(String labels, PointData point) {}

    /** Points in the order of their labels, so that a scrape's output does not depend on the SDK's map order. */
    private static List<Series> series(Collection<? extends PointData> points) {
        return points.stream().map(p -> new Series(labels(p.getAttributes()), p)).sorted(Comparator.comparing(Series::labels)).toList();
    }

    private static void samples(StringBuilder out, Family family, MetricData metric) {
        switch (metric.getType()) {
            case LONG_SUM -> values(out, family.name(), metric.getLongSumData().getPoints());
            case DOUBLE_SUM -> values(out, family.name(), metric.getDoubleSumData().getPoints());
            case LONG_GAUGE -> values(out, family.name(), metric.getLongGaugeData().getPoints());
            case DOUBLE_GAUGE -> values(out, family.name(), metric.getDoubleGaugeData().getPoints());
            case HISTOGRAM -> series(metric.getHistogramData().getPoints()).forEach(s -> histogram(out, family.name(), s));
            case EXPONENTIAL_HISTOGRAM, SUMMARY -> {
                // left out by families()
            }
        }
    }

    private static void values(StringBuilder out, String name, Collection<? extends PointData> points) {
        for (Series series : series(points)) {
            String value = switch (series.point()) {
                case LongPointData p -> Long.toString(p.getValue());
                case DoublePointData p -> number(p.getValue());
                default -> throw new IllegalStateException("a sum or gauge point of type " + series.point().getClass());
            };
            sample(out, name, series.labels(), value);
        }
    }

    /** Buckets cumulative, as the format wants (the SDK counts each bucket on its own). */
    private static void histogram(StringBuilder out, String name, Series series) {
        HistogramPointData point = (HistogramPointData) series.point();
        List<Double> bounds = point.getBoundaries();
        List<Long> counts = point.getCounts();
        String labels = series.labels().isEmpty() ? "" : series.labels() + ",";
        long cumulative = 0;
        for (int i = 0; i < bounds.size(); i++) {
            cumulative += counts.get(i);
            sample(out, name + "_bucket", labels + "le=\"" + number(bounds.get(i)) + "\"", Long.toString(cumulative));
        }
        sample(out, name + "_bucket", labels + "le=\"+Inf\"", Long.toString(point.getCount()));
        sample(out, name + "_sum", series.labels(), number(point.getSum()));
        sample(out, name + "_count", series.labels(), Long.toString(point.getCount()));
    }

    private static void sample(StringBuilder out, String name, String labels, String value) {
        out.append(name);
        if (!labels.isEmpty()) out.append('{').append(labels).append('}');
        out.append(' ').append(value).append('\n');
    }

    /**
     * {@code a="x",b="y"}, sorted by name. Two keys that sanitise to one label name give one label,
     * their values joined with {@code ;} in key order (the specification's rule).
     */
    private static String labels(Attributes attributes) {
        if (attributes.isEmpty()) return "";
        Map<String, String> labels = new TreeMap<>();
        attributes.forEach((key, value) -> labels.merge(sanitize(key.getKey()), String.valueOf(value), (a, b) -> a + ";" + b));
        StringBuilder text = new StringBuilder();
        labels.forEach((name, value) -> text.append(name).append("=\"").append(escapeLabel(value)).append("\","));
        return text.substring(0, text.length() - 1);
    }

    /** A float as Prometheus reads it: plain decimals in the usual range ({@code 0.00005}, {@code 10}), else Java's form. */
    static String number(double value) {
        if (Double.isNaN(value)) return "NaN";
        if (Double.isInfinite(value)) return value > 0 ? "+Inf" : "-Inf";
        double magnitude = Math.abs(value);
        if (value == 0 || (magnitude >= 1e-9 && magnitude < 1e15)) {
            return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
        }
        return Double.toString(value);
    }

    /** Label values escape backslash, double quote and line feed. */
    static String escapeLabel(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** HELP text escapes backslash and line feed. */
    static String escapeHelp(String help) {
        return help.replace("\\", "\\\\").replace("\n", "\\n");
    }
}
