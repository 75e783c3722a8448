package org.mllpserver.audit;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A SHA-256 value: a record's hash in the chain, or a payload's. Immutable. */
public final class Sha256 {

    public static final int BYTES = 32;
    /** What the very first record of an audit names as its predecessor. */
    public static final Sha256 ZERO = new Sha256(new byte[BYTES]);

    private final byte[] bytes;

    private Sha256(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The 32 bytes of a digest; copied. */
    public static Sha256 of(byte[] digest) {
        if (digest.length != BYTES) throw new IllegalArgumentException("a SHA-256 has 32 bytes, not " + digest.length);
        return new Sha256(digest.clone());
    }

    /** The hash of {@code data}, with a digest the caller keeps (a MessageDigest is not thread-safe). */
    static Sha256 hash(MessageDigest digest, byte[] data, int offset, int length) {
        digest.reset();
        digest.update(data, offset, length);
        return new Sha256(digest.digest());
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    public static Sha256 parse(String hex) {
        return of(HexFormat.of().parseHex(hex));
    }

    byte[] bytes() {
        return bytes.clone();
    }

    void writeTo(java.nio.ByteBuffer out) {
        out.put(bytes);
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sha256 other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
