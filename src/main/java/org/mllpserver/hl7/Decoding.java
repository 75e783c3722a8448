package org.mllpserver.hl7;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Turns a frame's bytes into text with the charset its MSH-18 names.
 *
 * <p>MSH-18 is found by scanning the MSH bytes as ASCII (every charset we accept is ASCII
 * compatible, which is what makes that scan valid); the whole payload is then decoded with it.
 * An empty MSH-18 means the configured default charset, never the JVM's. A UTF-8 byte order mark
 * is skipped and, when MSH-18 is empty, taken to mean UTF-8. Bytes that do not decode become
 * U+FFFD: the raw bytes are what gets stored, so a charset mistake can be fixed by a replay.
 *
 * <p>UTF-16 and UTF-32 (recognised by a byte order mark, by zero bytes around "MSH", or by
 * MSH-18) and charsets we do not know are refused. For those the text is still decoded as well
 * as possible, so the refusal can quote MSH-10 back to the sender.
 */
public final class Decoding {

    /**
     * @param text          the decoded payload (without byte order mark)
     * @param replyCharset  the charset to encode the reply with
     * @param replyMsh18    MSH-18 of the reply, naming replyCharset: the inbound spelling when
     *                      the inbound named it, else the table 0211 name
     * @param problem       present when the charset is refused
     */
    public record Decoded(String text, Charset replyCharset, String replyMsh18, Optional<Problem> problem) {}

    private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final int MSH_18 = 18;
    private static final byte ESC = 0x1B;

    private Decoding() {
    }

    public static Decoded decode(byte[] payload, Charset defaultCharset) {
        Charset wide = wideCharset(payload);
        if (wide != null) {
            return refused(decodeLeniently(payload, 0, wide), Problem.inMsh(ErrorCode.TABLE_VALUE_NOT_FOUND, MSH_18,
                    "the message is encoded in " + wide.name() + ", which MLLP cannot carry; send UTF-8 or an 8-bit charset"));
        }
        boolean bom = startsWith(payload, UTF8_BOM);
        int offset = bom ? UTF8_BOM.length : 0;
        Declared declared = declaredCharsets(payload, offset);
        if (declared.usesIso2022Extensions()) {
            // e.g. "~ISO IR87" or "ASCII~ISO IR87": ASCII by default, JIS switched in by escape sequences.
            Charset charset = Charset.forName(declared.mentions("ISO IR159") ? "ISO-2022-JP-2" : "ISO-2022-JP");
            return new Decoded(decodeLeniently(payload, offset, charset), charset, declared.field(), Optional.empty());
        }
        String primary = declared.names().isEmpty() ? "" : declared.names().getFirst();
        if (primary.isEmpty()) {
            Charset charset = bom ? StandardCharsets.UTF_8 : defaultCharset;
            return new Decoded(decodeLeniently(payload, offset, charset), charset, msh18Name(charset), Optional.empty());
        }
        return switch (Charsets.lookup(primary)) {
            case Charsets.Known known -> new Decoded(decodeLeniently(payload, offset, known.charset()),
                    known.charset(), primary, Optional.empty());
            case Charsets.NotMllpSafe unsafe -> refused(decodeLeniently(payload, offset, StandardCharsets.ISO_8859_1),
                    Problem.inMshQuoting(ErrorCode.TABLE_VALUE_NOT_FOUND, MSH_18,
                            "MSH-18 %s names a charset MLLP cannot carry; send UTF-8 or an 8-bit charset", primary));
            case Charsets.Unknown unknown -> refused(decodeLeniently(payload, offset, StandardCharsets.ISO_8859_1),
                    Problem.inMshQuoting(ErrorCode.TABLE_VALUE_NOT_FOUND, MSH_18,
                            "MSH-18 %s is not a character set of HL7 table 0211 (nor a charset this server can read and write)", primary));
        };
    }

    /**
     * MSH-18 as declared: the raw field and its repetitions (the first is the message's default
     * charset, later ones are alternates switched in by escape sequences).
     */
    record Declared(String field, List<String> names) {
        boolean usesIso2022Extensions() {
            boolean extension = names.stream().skip(1).map(Decoding::upper).anyMatch(ISO_2022_EXTENSIONS::contains);
            String primary = names.isEmpty() ? "" : upper(names.getFirst());
            return extension && (primary.isEmpty() || ISO_2022_BASES.contains(primary));
        }

        boolean mentions(String name) {
            return names.stream().map(Decoding::upper).anyMatch(name::equals);
        }
    }

    private static final java.util.Set<String> ISO_2022_EXTENSIONS = java.util.Set.of("ISO IR87", "ISO IR159");
    private static final java.util.Set<String> ISO_2022_BASES = java.util.Set.of("ASCII", "ISO IR6", "ISO IR14", "ISO IR87", "ISO IR159");

    /** A refusal is answered in ISO-8859-1, which gives the copied header bytes back unchanged. */
    private static Decoded refused(String text, Problem problem) {
        return new Decoded(text, StandardCharsets.ISO_8859_1, msh18Name(StandardCharsets.ISO_8859_1), Optional.of(problem));
    }

    /** How the reply's MSH-18 names a charset the inbound message did not name: its table 0211 name, else its Java name. */
    static String msh18Name(Charset charset) {
        String hl7 = Charsets.hl7Name(charset);
        return hl7.isEmpty() ? charset.name() : hl7;
    }

    /** UTF-16/32 by byte order mark or by the zero bytes a wide "MSH" has. */
    private static Charset wideCharset(byte[] b) {
        if (startsWith(b, 0x00, 0x00, 0xFE, 0xFF) || startsWith(b, 0x00, 0x00, 0x00, 'M')) return Charset.forName("UTF-32BE");
        if (startsWith(b, 0xFF, 0xFE, 0x00, 0x00) || startsWith(b, 'M', 0x00, 0x00, 0x00)) return Charset.forName("UTF-32LE");
        if (startsWith(b, 0xFE, 0xFF) || startsWith(b, 0x00, 'M', 0x00, 'S')) return StandardCharsets.UTF_16BE;
        if (startsWith(b, 0xFF, 0xFE) || startsWith(b, 'M', 0x00, 'S', 0x00)) return StandardCharsets.UTF_16LE;
        return null;
    }

    /**
     * MSH-18 read from the bytes as ASCII. Every charset we accept is ASCII-compatible outside
     * ISO 2022 multi-byte runs, whose bytes may equal a delimiter: those runs ({@code ESC $ ...}
     * up to {@code ESC ( ...}) are skipped while counting fields. A double-byte charset without
     * escapes (GB 18030, BIG-5) can still hide a separator in MSH-3..17 from this scan: senders
     * of those should keep the header ASCII, as HL7 header values nearly always are.
     */
    static Declared declaredCharsets(byte[] b, int offset) {
        int start = offset;
        while (start < b.length && (b[start] == '\r' || b[start] == '\n')) start++;
        if (b.length - start < 4 || b[start] != 'M' || b[start + 1] != 'S' || b[start + 2] != 'H') return new Declared("", List.of());
        byte separator = b[start + 3];
        byte repetition = b.length > start + 5 ? b[start + 5] : (byte) '~';
        // The separator at start+3 is MSH-1 and opens MSH-2; each further one opens the next field.
        int fieldNumber = 1;
        int fieldStart = -1;
        int fieldEnd = -1;
        boolean multiByte = false;
        for (int i = start + 3; i < b.length && b[i] != '\r' && b[i] != '\n'; i++) {
            if (b[i] == ESC && i + 1 < b.length) {
                multiByte = b[i + 1] == '$' || (b[i + 1] != '(' && multiByte);
                continue;
            }
            if (multiByte || b[i] != separator) continue;
            if (++fieldNumber == MSH_18) fieldStart = i + 1;
            else if (fieldNumber == MSH_18 + 1) {
                fieldEnd = i;
                break;
            }
        }
        if (fieldStart < 0) return new Declared("", List.of());
        int end = fieldEnd >= 0 ? fieldEnd : fieldStart;
        if (fieldEnd < 0) while (end < b.length && b[end] != '\r' && b[end] != '\n') end++;
        String field = new String(b, fieldStart, end - fieldStart, StandardCharsets.ISO_8859_1);
        List<String> names = new java.util.ArrayList<>();
        for (String name : field.split(java.util.regex.Pattern.quote(String.valueOf((char) repetition)), -1)) {
            names.add(name.strip());
        }
        while (names.size() > 1 && names.getLast().isEmpty()) names.removeLast();
        if (names.size() == 1 && names.getFirst().isEmpty()) names.clear();
        return new Declared(field.strip(), List.copyOf(names));
    }

    private static String upper(String name) {
        return name.strip().toUpperCase(java.util.Locale.ROOT);
    }

    private static String decodeLeniently(byte[] payload, int offset, Charset charset) {
        CharsetDecoder decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        try {
            String text = decoder.decode(ByteBuffer.wrap(payload, offset, payload.length - offset)).toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text; // a byte order mark is not text
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("a REPLACE decoder cannot fail", e);
        }
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (b[i] != prefix[i]) return false;
        return true;
    }

    private static boolean startsWith(byte[] b, int... prefix) {
        if (b.length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if ((b[i] & 0xFF) != prefix[i]) return false;
        return true;
    }
}
