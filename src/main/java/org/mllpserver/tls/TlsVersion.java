package org.mllpserver.tls;

import java.util.Locale;

/**
 * The lowest TLS version the server accepts ({@code TLS_MIN_VERSION}). Older versions (1.0, 1.1)
 * are not offered at all: they lack AEAD suites and are deprecated by RFC 8996. Immutable.
 */
public enum TlsVersion {
    TLS_1_2,
    TLS_1_3;

    /** "1.2" or "1.3" (also "TLSv1.2", "TLSv1.3"); IllegalArgumentException otherwise. */
    public static TlsVersion parse(String text) {
        String bare = text.strip();
        if (bare.toLowerCase(Locale.ROOT).startsWith("tlsv")) bare = bare.substring(4);
        return switch (bare) {
            case "1.2" -> TLS_1_2;
            case "1.3" -> TLS_1_3;
            default -> throw new IllegalArgumentException(
                    "TLS version '" + text + "' is not supported: use 1.2 or 1.3");
        };
    }

    /** Enabled protocol names from this minimum up, newest first: 1.2 gives TLSv1.3 and TLSv1.2. */
    public String[] protocols() {
        return switch (this) {
            case TLS_1_2 -> new String[] {"TLSv1.3", "TLSv1.2"};
            case TLS_1_3 -> new String[] {"TLSv1.3"};
        };
    }
}
