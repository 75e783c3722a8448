package org.mllpserver.tls;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Just enough DER (ITU-T X.690) to turn PKCS#1 and SEC1 private keys into PKCS#8 for the JDK's
 * {@code KeyFactory}, and to read the algorithm OID of a PKCS#8 key: reading tag-length-value
 * elements, writing them, and OBJECT IDENTIFIER text.
 *
 * <p>Limits: single-byte tags only (every tag in these key formats is one), definite lengths of
 * at most 4 length bytes, OID arcs of at most 63 bits. Anything else, and every truncation, is a
 * {@link Malformed} input, never another exception. Nothing is decoded eagerly: {@link #elements}
 * reads one level, the caller descends. Stateless; thread-safe.
 */
final class Der {

    static final int INTEGER = 0x02;
    static final int OCTET_STRING = 0x04;
    static final int NULL = 0x05;
    static final int OBJECT_IDENTIFIER = 0x06;
    static final int SEQUENCE = 0x30;
    /** SEC1's {@code parameters [0] ECParameters}: context-specific, constructed, number 0. */
    static final int CONTEXT_0 = 0xA0;

    /** Lengths up to 2^31 - 1; the inputs are PEM bodies of at most a few MiB. */
    private static final int MAX_LENGTH_BYTES = 4;
    /** 9 base-128 digits hold 63 bits: an arc that needs more is not in any key format we read. */
    private static final int MAX_ARC_DIGITS = 9;

    /** The input is not the DER this class reads; the message says where it went wrong. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message);
        }
    }

    /** One element: its tag byte and its content bytes (without tag and length). */
    record Element(int tag, byte[] value) {
        Element expect(int expected) throws Malformed {
            if (tag != expected) throw new Malformed(String.format("expected tag 0x%02x, found 0x%02x", expected, tag));
            return this;
        }

        List<Element> children() throws Malformed {
            return elements(value);
        }
    }

    private Der() {}

    /** The one element that fills {@code der} exactly. */
    static Element single(byte[] der) throws Malformed {
        List<Element> all = elements(der);
        if (all.size() != 1) throw new Malformed("expected one element, found " + all.size());
        return all.getFirst();
    }

    /** The elements that fill {@code content}, one after another. */
    static List<Element> elements(byte[] content) throws Malformed {
        List<Element> out = new ArrayList<>();
        int pos = 0;
        while (pos < content.length) {
            int tag = content[pos++] & 0xff;
            if ((tag & 0x1f) == 0x1f) throw new Malformed("multi-byte tag at offset " + (pos - 1));
            Length header = readLength(content, pos);
            pos += header.bytes();
            int length = header.value();
            if (length > content.length - pos) {
                throw new Malformed("truncated: an element of " + length + " bytes with " + (content.length - pos) + " left");
            }
            out.add(new Element(tag, Arrays.copyOfRange(content, pos, pos + length)));
            pos += length;
        }
        return out;
    }

    /** A length field: how many bytes it takes, and the length it says. */
    private record Length(int bytes, int value) {}

    private static Length readLength(byte[] in, int pos) throws Malformed {
        if (pos >= in.length) throw new Malformed("truncated: a tag without a length");
        int first = in[pos] & 0xff;
        if (first < 0x80) return new Length(1, first);
        int count = first & 0x7f;
        if (count == 0) throw new Malformed("indefinite length (BER, not DER)");
        if (count > MAX_LENGTH_BYTES) throw new Malformed("a length of " + count + " bytes");
        if (pos + count >= in.length) throw new Malformed("truncated inside a length");
        long length = 0;
        for (int i = 1; i <= count; i++) length = (length << 8) | (in[pos + i] & 0xff);
        if (length > Integer.MAX_VALUE) throw new Malformed("a length of " + length + " bytes");
        return new Length(count + 1, (int) length);
    }

    /** Tag, length and the concatenated parts. */
    static byte[] encode(int tag, byte[]... parts) {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (byte[] part : parts) content.writeBytes(part);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        out.writeBytes(lengthBytes(content.size()));
        out.writeBytes(content.toByteArray());
        return out.toByteArray();
    }

    private static byte[] lengthBytes(int length) {
        if (length < 0x80) return new byte[] {(byte) length};
        int count = (Integer.SIZE - Integer.numberOfLeadingZeros(length) + 7) / 8;
        byte[] out = new byte[count + 1];
        out[0] = (byte) (0x80 | count);
        for (int i = 0; i < count; i++) out[count - i] = (byte) (length >>> (8 * i));
        return out;
    }

    /** A whole OBJECT IDENTIFIER element (tag, length, value) for dotted text such as "1.2.840.10045.2.1". */
    static byte[] oid(String dotted) {
        long[] arcs = Arrays.stream(dotted.split("\\.")).mapToLong(Long::parseLong).toArray();
        if (arcs.length < 2 || arcs[0] > 2) throw new IllegalArgumentException("not an OID: " + dotted);
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        writeArc(value, arcs[0] * 40 + arcs[1]);
        for (int i = 2; i < arcs.length; i++) writeArc(value, arcs[i]);
        return encode(OBJECT_IDENTIFIER, value.toByteArray());
    }

    private static void writeArc(ByteArrayOutputStream out, long arc) {
        int digits = Math.max(1, (Long.SIZE - Long.numberOfLeadingZeros(arc) + 6) / 7);
        for (int i = digits - 1; i >= 0; i--) {
            int digit = (int) ((arc >>> (7 * i)) & 0x7f);
            out.write(i == 0 ? digit : digit | 0x80);
        }
    }

    /** Dotted text of an OBJECT IDENTIFIER's value bytes. */
    static String oidText(byte[] value) throws Malformed {
        List<Long> arcs = new ArrayList<>();
        long arc = 0;
        int digits = 0;
        for (byte b : value) {
            if (++digits > MAX_ARC_DIGITS) throw new Malformed("an OID arc longer than " + MAX_ARC_DIGITS + " bytes");
            arc = (arc << 7) | (b & 0x7f);
            if ((b & 0x80) == 0) {
                arcs.add(arc);
                arc = 0;
                digits = 0;
            }
        }
        if (arcs.isEmpty() || digits != 0) throw new Malformed("a truncated OID");
        return firstArcs(arcs.getFirst()) + arcs.stream().skip(1).map(a -> "." + a).reduce("", String::concat);
    }

    /** The first subidentifier holds two arcs: 40 * first + second (the first is 0, 1 or 2). */
    private static String firstArcs(long joined) {
        long first = Math.min(joined / 40, 2);
        return first + "." + (joined - first * 40);
    }
}
