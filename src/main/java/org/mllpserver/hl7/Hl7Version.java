package org.mllpserver.hl7;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HL7 v2 version this server accepts: 2.1 to 2.8, with an optional third number (2.3.1,
 * 2.5.1, 2.8.2, and unofficial ones such as 2.6.1, which belong to their 2.x family).
 */
public record Hl7Version(int minor, int patch, String text) {

    private static final Pattern SUPPORTED = Pattern.compile("2\\.([1-8])(?:\\.([0-9]))?");

    /** Reads MSH-12.1; empty when it is not a supported version. */
    public static Optional<Hl7Version> parse(String versionId) {
        Matcher m = SUPPORTED.matcher(versionId.strip());
        if (!m.matches()) return Optional.empty();
        int minor = Integer.parseInt(m.group(1));
        int patch = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        return Optional.of(new Hl7Version(minor, patch, versionId.strip()));
    }

    public boolean isAtLeast(int minor, int patch) {
        return this.minor > minor || (this.minor == minor && this.patch >= patch);
    }

    /** From v2.5 on, ERR carries ERR-2/3/4/8; before, ERR-1 (ELD) plus MSA-3. */
    public boolean hasStructuredErr() {
        return isAtLeast(5, 0);
    }

    @Override
    public String toString() {
        return text;
    }
}
