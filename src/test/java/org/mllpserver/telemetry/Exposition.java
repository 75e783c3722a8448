package org.mllpserver.telemetry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A strict reader of the Prometheus text format 0.0.4, for tests: every line must be a HELP, a
 * TYPE or a sample line of the format; each family has one HELP and one TYPE line before its
 * samples, and each sample belongs to the family above it. Label values are unescaped.
 */
final class Exposition {

    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");
    private static final Pattern VALUE = Pattern.compile("[+-]?Inf|NaN|[+-]?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    record Sample(String name, Map<String, String> labels, double value) {}

    record Family(String name, String type, String help, List<Sample> samples) {}

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final String text;

    private Exposition(String text) {
        this.text = text;
    }

    static Exposition parse(String text) {
        Exposition exposition = new Exposition(text);
        assertTrue(text.endsWith("\n"), "the exposition ends with a line feed");
        String pendingHelp = null;
        Family current = null;
        for (String line : text.split("\n")) {
            Matcher help = HELP.matcher(line);
            Matcher type = TYPE.matcher(line);
            Matcher sample = SAMPLE.matcher(line);
            if (help.matches()) {
                assertFalse(exposition.families.containsKey(help.group(1)), "one HELP per family: " + line);
                pendingHelp = line;
            } else if (type.matches()) {
                assertNotNull(pendingHelp, "HELP comes before TYPE: " + line);
                assertTrue(pendingHelp.startsWith("# HELP " + type.group(1) + " "), "HELP and TYPE name one family: " + line);
                current = new Family(type.group(1), type.group(2), pendingHelp.substring(("# HELP " + type.group(1) + " ").length()), new ArrayList<>());
                assertTrue(exposition.families.put(current.name(), current) == null, "one TYPE per family: " + line);
                pendingHelp = null;
            } else if (sample.matches()) {
                assertNotNull(current, "a sample after its family's TYPE: " + line);
                assertTrue(belongs(sample.group(1), current), line + " belongs to family " + current.name());
                current.samples().add(new Sample(sample.group(1), labels(sample.group(3), line), value(sample.group(4), line)));
            } else {
                fail("not a line of the text format: '" + line + "'");
            }
        }
        return exposition;
    }

    private static boolean belongs(String sample, Family family) {
        if (!family.type().equals("histogram")) return sample.equals(family.name());
        return sample.equals(family.name() + "_bucket") || sample.equals(family.name() + "_sum") || sample.equals(family.name() + "_count");
    }

    private static Map<String, String> labels(String text, String line) {
        Map<String, String> labels = new TreeMap<>();
        if (text == null) return labels;
        Matcher m = LABEL.matcher(text);
        int at = 0;
        while (at < text.length()) {
            assertTrue(m.find(at) && m.start() == at, "well-formed labels at offset " + at + ": " + line);
            assertTrue(labels.put(m.group(1), unescape(m.group(2))) == null, "a label once: " + line);
            at = m.end();
        }
        return labels;
    }

    private static String unescape(String value) {
        return value.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    private static double value(String text, String line) {
        assertTrue(VALUE.matcher(text).matches(), "a number: " + line);
        return switch (text) {
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(text);
        };
    }

    String text() {
        return text;
    }

    Map<String, Family> families() {
        return families;
    }

    Family family(String name) {
        Family family = families.get(name);
        assertNotNull(family, "family " + name + " in:\n" + text);
        return family;
    }

    /** The one sample of {@code name} with exactly these labels. */
    Optional<Double> value(String name, Map<String, String> labels) {
        return families.values().stream().flatMap(f -> f.samples().stream())
                .filter(s -> s.name().equals(name) && s.labels().equals(labels)).map(Sample::value).findFirst();
    }

    double valueOf(String name, Map<String, String> labels) {
        return value(name, labels).orElseGet(() -> fail("no sample " + name + labels + " in:\n" + text));
    }

    /** Checks a histogram's series: buckets in increasing {@code le}, cumulative, the last +Inf and equal to _count. */
    static void assertHistogramsWellFormed(Family family) {
        Map<Map<String, String>, List<Sample>> buckets = new LinkedHashMap<>();
        for (Sample s : family.samples()) {
            if (!s.name().endsWith("_bucket")) continue;
            Map<String, String> series = new TreeMap<>(s.labels());
            assertNotNull(series.remove("le"), "a bucket has le: " + s);
            buckets.computeIfAbsent(series, k -> new ArrayList<>()).add(s);
        }
        assertFalse(buckets.isEmpty(), family.name() + " has buckets");
        buckets.forEach((series, list) -> {
            double previousLe = Double.NEGATIVE_INFINITY;
            double previousCount = 0;
            for (Sample b : list) {
                double le = value(b.labels().get("le"), b.toString());
                assertTrue(le > previousLe, "le increases: " + b);
                assertTrue(b.value() >= previousCount, "cumulative: " + b);
                previousLe = le;
                previousCount = b.value();
            }
            Sample last = list.getLast();
            assertEquals("+Inf", last.labels().get("le"), "the last bucket is +Inf: " + family.name() + series);
            Sample count = family.samples().stream().filter(s -> s.name().equals(family.name() + "_count") && s.labels().equals(series))
                    .findFirst().orElseGet(() -> fail("no _count for " + series));
            assertEquals(count.value(), last.value(), "+Inf equals _count: " + family.name() + series);
        });
    }
}
