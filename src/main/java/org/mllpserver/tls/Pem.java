package org.mllpserver.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A PEM file (RFC 7468, plus the RFC 1421 headers of OpenSSL's legacy encrypted keys) split into
 * its blocks. Tolerant of what real files hold: LF, CRLF or CR line ends, text before, between
 * and after blocks (openssl's "Bag Attributes" and "subject=" lines, comments), blank lines and
 * trailing spaces. Strict where leniency would hide a damaged file: a BEGIN without its END, an
 * END with another label, a body that is not base64, an empty body.
 *
 * <p>Limits: a file larger than {@link #MAX_FILE_BYTES} is refused unread. Stateless; thread-safe.
 */
final class Pem {

    /** A certificate chain or CA bundle is at most a few hundred KiB (all of Mozilla's roots: about 220 KiB). */
    static final int MAX_FILE_BYTES = 4 << 20;

    private static final String BEGIN = "-----BEGIN ";
    private static final String END = "-----END ";
    private static final String DASHES = "-----";

    /** One block: its label ("CERTIFICATE"), its RFC 1421 headers (usually none), its bytes, and its BEGIN line (1-based). */
    record Block(String label, List<String> headers, byte[] der, int line) {
        String where() {
            return "the " + label + " block at line " + line;
        }
    }

    private Pem() {}

    /** The blocks of {@code file}; {@code role} ("certificate file", "key file") starts each message. */
    static List<Block> read(Path file, String role) throws TlsException {
        byte[] bytes = bytes(file, role);
        if (bytes.length == 0) throw new TlsException(role + " " + file + " is empty: expected PEM text (-----BEGIN ...)");
        List<Block> blocks = parse(file, role, new String(bytes, StandardCharsets.ISO_8859_1));
        if (blocks.isEmpty()) throw new TlsException(role + " " + file + " holds no PEM block" + derHint(bytes));
        return blocks;
    }

    private static byte[] bytes(Path file, String role) throws TlsException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1); // bounded: never more than the limit in memory
        } catch (NoSuchFileException e) {
            throw new TlsException(role + " " + file + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new TlsException(role + " " + file + " cannot be read: permission denied (the server's user needs read access)", e);
        } catch (IOException e) {
            throw new TlsException(role + " " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new TlsException(role + " " + file + " is larger than " + (MAX_FILE_BYTES >> 20) + " MiB: not a PEM file of certificates or a key");
        }
        return bytes;
    }

    /** A SEQUENCE tag first: the file is binary DER, which has a known conversion. */
    private static String derHint(byte[] bytes) {
        if ((bytes[0] & 0xff) != Der.SEQUENCE) return " (no -----BEGIN line): expected PEM text";
        return " (no -----BEGIN line); it looks like binary DER: convert it to PEM with"
                + " `openssl x509 -inform der -in FILE -out FILE.pem` (certificates) or `openssl pkey -inform der ...` (keys)";
    }

    static List<Block> parse(Path file, String role, String text) throws TlsException {
        List<String> lines = text.lines().map(String::strip).toList();
        List<Block> blocks = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String label = label(lines.get(i), BEGIN);
            if (label == null) {
                i++;
                continue;
            }
            int end = endLine(file, role, lines, i, label);
            blocks.add(block(file, role, label, lines.subList(i + 1, end), i + 1));
            i = end + 1;
        }
        return blocks;
    }

    /** The label of a "-----BEGIN X-----" (or END) line, or null when the line is not one. */
    private static String label(String line, String marker) {
        if (!line.startsWith(marker) || !line.endsWith(DASHES) || line.length() <= marker.length() + DASHES.length()) return null;
        return line.substring(marker.length(), line.length() - DASHES.length());
    }

    private static int endLine(Path file, String role, List<String> lines, int begin, String label) throws TlsException {
        for (int i = begin + 1; i < lines.size(); i++) {
            String endLabel = label(lines.get(i), END);
            if (label.equals(endLabel)) return i;
            if (endLabel != null || lines.get(i).startsWith(BEGIN)) {
                throw new TlsException(role + " " + file + ": the " + label + " block at line " + (begin + 1)
                        + " is cut off by line " + (i + 1) + " (" + lines.get(i) + "): the file is damaged");
            }
        }
        throw new TlsException(role + " " + file + ": the " + label + " block at line " + (begin + 1)
                + " has no -----END " + label + "----- line: the file is truncated");
    }

    private static Block block(Path file, String role, String label, List<String> body, int line) throws TlsException {
        List<String> headers = new ArrayList<>();
        StringBuilder base64 = new StringBuilder();
        for (String text : body) {
            if (text.indexOf(':') >= 0) headers.add(text); // base64 has no ':'; RFC 1421 headers do
            else base64.append(text);
        }
        Block block = new Block(label, List.copyOf(headers), decode(file, role, label, line, base64.toString()), line);
        if (block.der().length == 0) throw new TlsException(role + " " + file + ": " + block.where() + " is empty");
        return block;
    }

    private static byte[] decode(Path file, String role, String label, int line, String base64) throws TlsException {
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new TlsException(role + " " + file + ": the " + label + " block at line " + line
                    + " is not valid base64 (" + e.getMessage() + "): the file is damaged", e);
        }
    }
}
