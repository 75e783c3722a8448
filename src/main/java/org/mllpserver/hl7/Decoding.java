package org.mllpserver.hl7;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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
     * @param replyMsh18    MSH-18 of the reply: the inbound spelling, or empty when the inbound
     *                      MSH-18 was empty or unusable
     * @param problem       present when the charset is refused
     */
    public record Decoded(String text, Charset replyCharset, String replyMsh18, Optional<Problem> problem) {}

    private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final int MSH_18 = 18;

    private Decoding() {
    }

    public static Decoded decode(byte[] payload, Charset defaultCharset) {
        Charset wide = wideCharset(payload);
        if (wide != null) {
            return refused(decodeLeniently(payload, 0, wide),
                    "the message is encoded in " + wide.name() + ", which MLLP cannot carry; send UTF-8 or an 8-bit charset");
        }
        boolean bom = startsWith(payload, UTF8_BOM);
        int offset = bom ? UTF8_BOM.length : 0;
        String declared = declaredCharset(payload, offset);
        if (declared.isEmpty()) {
            Charset charset = bom ? StandardCharsets.UTF_8 : defaultCharset;
            return new Decoded(decodeLeniently(payload, offset, charset), charset, "", Optional.empty());
        }
        return switch (Charsets.lookup(declared)) {
            case Charsets.Known known -> new Decoded(decodeLeniently(payload, offset, known.charset()),
                    known.charset(), declared, Optional.empty());
            case Charsets.NotMllpSafe unsafe -> refused(decodeLeniently(payload, offset, StandardCharsets.ISO_8859_1),
                    "MSH-18 '" + declared + "' names a charset MLLP cannot carry; send UTF-8 or an 8-bit charset");
            case Charsets.Unknown unknown -> refused(decodeLeniently(payload, offset, StandardCharsets.ISO_8859_1),
                    "MSH-18 '" + declared + "' is not a character set of HL7 table 0211 (nor a charset name this server knows)");
        };
    }

    /** A refusal is answered in ISO-8859-1, which gives the copied header bytes back unchanged. */
    private static Decoded refused(String text, String message) {
        Problem problem = Problem.inMsh(ErrorCode.TABLE_VALUE_NOT_FOUND, MSH_18, message);
        return new Decoded(text, StandardCharsets.ISO_8859_1, "", Optional.of(problem));
    }

    /** UTF-16/32 by byte order mark or by the zero bytes a wide "MSH" has. */
    private static Charset wideCharset(byte[] b) {
        if (startsWith(b, 0x00, 0x00, 0xFE, 0xFF) || startsWith(b, 0x00, 0x00, 0x00, 'M')) return Charset.forName("UTF-32BE");
        if (startsWith(b, 0xFF, 0xFE, 0x00, 0x00) || startsWith(b, 'M', 0x00, 0x00, 0x00)) return Charset.forName("UTF-32LE");
        if (startsWith(b, 0xFE, 0xFF) || startsWith(b, 0x00, 'M', 0x00, 'S')) return StandardCharsets.UTF_16BE;
        if (startsWith(b, 0xFF, 0xFE) || startsWith(b, 'M', 0x00, 'S', 0x00)) return StandardCharsets.UTF_16LE;
        return null;
    }

    /** MSH-18's first repetition, read from the bytes as ASCII; empty when there is none. */
    static String declaredCharset(byte[] b, int offset) {
        int start = offset;
        while (start < b.length && (b[start] == '\r' || b[start] == '\n')) start++;
        if (b.length - start < 4 || b[start] != 'M' || b[start + 1] != 'S' || b[start + 2] != 'H') return "";
        byte separator = b[start + 3];
        byte repetition = b.length > start + 5 ? b[start + 5] : (byte) '~';
        // The separator at start+3 is MSH-1 and opens MSH-2; each further one opens the next field.
        int fieldNumber = 1;
        int fieldStart = -1;
        for (int i = start + 3; i < b.length && b[i] != '\r' && b[i] != '\n'; i++) {
            if (b[i] != separator) continue;
            if (++fieldNumber == MSH_18) fieldStart = i + 1;
            else if (fieldNumber > MSH_18) break;
        }
        if (fieldStart < 0) return "";
        int end = fieldStart;
        while (end < b.length && b[end] != separator && b[end] != repetition && b[end] != '\r' && b[end] != '\n') end++;
        return new String(b, fieldStart, end - fieldStart, StandardCharsets.ISO_8859_1).strip();
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
