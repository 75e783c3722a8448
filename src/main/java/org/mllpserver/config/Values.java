package org.mllpserver.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for the value syntaxes of the configuration; each throws with a message fit for the operator. */
final class Values {

    private static final Pattern DURATION = Pattern.compile("([0-9]{1,12})(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,15})(B|KiB|MiB|GiB)?", Pattern.CASE_INSENSITIVE);

    private Values() {
    }

    /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 7d}; a bare {@code 0} is zero. */
    static Duration duration(String text) {
        if (text.strip().equals("0")) return Duration.ZERO;
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) throw new IllegalArgumentException("is not a duration (use e.g. 500ms, 30s, 5m, 1h, 7d)");
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            default -> throw new IllegalStateException("pattern admitted " + m.group(2));
        };
    }

    /** {@code 4096}, {@code 64KiB}, {@code 4MiB}, {@code 1GiB}: bytes. */
    static long size(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) throw new IllegalArgumentException("is not a size (use e.g. 65536, 64KiB, 4MiB)");
        long amount = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        long factor = switch (unit) {
            case "b" -> 1;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            default -> throw new IllegalStateException("pattern admitted " + unit);
        };
        return Math.multiplyExact(amount, factor);
    }

    static boolean bool(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new IllegalArgumentException("is not a boolean (use true or false)");
        };
    }

    static long integer(String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("is not a whole number");
        }
    }
}
