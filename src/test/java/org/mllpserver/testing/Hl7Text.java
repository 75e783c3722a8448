package org.mllpserver.testing;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads HL7 text in tests by plain splitting, independently of the code under test: segments
 * end with CR, fields are split on MSH-1.
 */
public final class Hl7Text {

    private final List<String> segments;
    private final char fieldSeparator;

    private Hl7Text(String text) {
        this.segments = List.of(text.split("\r"));
        this.fieldSeparator = text.length() > 3 ? text.charAt(3) : '|';
    }

    public static Hl7Text of(byte[] bytes) {
        return of(bytes, StandardCharsets.ISO_8859_1);
    }

    public static Hl7Text of(byte[] bytes, Charset charset) {
        return new Hl7Text(new String(bytes, charset));
    }

    public static Hl7Text of(String text) {
        return new Hl7Text(text);
    }

    public List<String> segments() {
        return segments;
    }

    /** The first segment with this id, or null. */
    public String segment(String id) {
        for (String s : segments) if (s.startsWith(id)) return s;
        return null;
    }

    public List<String> all(String id) {
        List<String> found = new ArrayList<>();
        for (String s : segments) if (s.startsWith(id)) found.add(s);
        return found;
    }

    /** Field n of the first segment with this id (MSH counted the HL7 way: MSH-1 is the separator). */
    public String field(String id, int n) {
        String segment = segment(id);
        if (segment == null) return null;
        String[] fields = segment.split(Pattern.quote(String.valueOf(fieldSeparator)), -1);
        int index = id.equals("MSH") ? n - 1 : n;
        if (id.equals("MSH") && n == 1) return String.valueOf(fieldSeparator);
        return index < fields.length ? fields[index] : "";
    }

    public String ackCode() {
        return field("MSA", 1);
    }

    public String acknowledgedId() {
        return field("MSA", 2);
    }
}
