package org.mllpserver.hl7;

import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * HL7 table 0211 (alternate character sets) mapped to Java charsets, plus the common Java/IANA
 * spellings senders put in MSH-18 instead. Never consults the JVM's default charset.
 */
public final class Charsets {

    /** What MSH-18 names, once looked up. */
    public sealed interface Lookup permits Known, NotMllpSafe, Unknown {}

    /** A charset we decode with; {@code hl7Name} is how the sender spelled it. */
    public record Known(Charset charset, String hl7Name) implements Lookup {}

    /** UTF-16 or UTF-32: their code units can contain 0x0B, 0x1C and 0x0D, so MLLP cannot carry them. */
    public record NotMllpSafe(String name) implements Lookup {}

    public record Unknown(String name) implements Lookup {}

    private static final Map<String, String> TABLE_0211 = Map.ofEntries(
            Map.entry("ASCII", "US-ASCII"),
            Map.entry("8859/1", "ISO-8859-1"),
            Map.entry("8859/2", "ISO-8859-2"),
            Map.entry("8859/3", "ISO-8859-3"),
            Map.entry("8859/4", "ISO-8859-4"),
            Map.entry("8859/5", "ISO-8859-5"),
            Map.entry("8859/6", "ISO-8859-6"),
            Map.entry("8859/7", "ISO-8859-7"),
            Map.entry("8859/8", "ISO-8859-8"),
            Map.entry("8859/9", "ISO-8859-9"),
            Map.entry("8859/15", "ISO-8859-15"),
            Map.entry("UNICODE UTF-8", "UTF-8"),
            // Plain "UNICODE" is deprecated in the table; senders that use it send UTF-8.
            Map.entry("UNICODE", "UTF-8"),
            Map.entry("ISO IR6", "US-ASCII"),
            Map.entry("ISO IR14", "JIS_X0201"),
            // JIS X 0208 and X 0212 arrive switched in and out by ISO 2022 escape sequences.
            Map.entry("ISO IR87", "ISO-2022-JP"),
            Map.entry("ISO IR159", "ISO-2022-JP-2"),
            Map.entry("GB 18030-2000", "GB18030"),
            Map.entry("KS X 1001", "EUC-KR"),
            Map.entry("CNS 11643-1992", "x-EUC-TW"),
            Map.entry("BIG-5", "Big5"));

    private static final Set<String> NOT_MLLP_SAFE = Set.of("UNICODE UTF-16", "UNICODE UTF-32");

    private Charsets() {
    }

    /** Looks up an MSH-18 value (one repetition, already stripped of spaces). */
    public static Lookup lookup(String name) {
        String key = name.strip().toUpperCase(Locale.ROOT);
        if (NOT_MLLP_SAFE.contains(key)) return new NotMllpSafe(name);
        String mapped = TABLE_0211.get(key);
        if (mapped != null) return new Known(Charset.forName(mapped), name);
        Charset charset = javaCharset(name.strip());
        // A charset Java can only decode (x-JISAutoDetect, ISO-2022-CN) cannot encode the reply: of no use here.
        if (charset == null || !charset.canEncode()) return new Unknown(name);
        if (!isAsciiCompatible(charset)) return new NotMllpSafe(name);
        return new Known(charset, name);
    }

    /** The table 0211 name of a charset, for MSH-18 of replies; empty when the table has none. */
    public static String hl7Name(Charset charset) {
        if (charset.equals(StandardCharsets.UTF_8)) return "UNICODE UTF-8";
        if (charset.equals(StandardCharsets.US_ASCII)) return "ASCII";
        for (var entry : TABLE_0211.entrySet()) {
            if (entry.getValue().equalsIgnoreCase(charset.name())) return entry.getKey();
        }
        return "";
    }

    /** True when ASCII text encodes to the same bytes, so MSH can be found by scanning bytes. */
    public static boolean isAsciiCompatible(Charset charset) {
        byte[] probe = "MSH|^~\\&\r".getBytes(charset);
        return java.util.Arrays.equals(probe, "MSH|^~\\&\r".getBytes(StandardCharsets.US_ASCII));
    }

    private static Charset javaCharset(String name) {
        try {
            return Charset.isSupported(name) ? Charset.forName(name) : null;
        } catch (IllegalCharsetNameException e) {
            return null;
        }
    }
}
