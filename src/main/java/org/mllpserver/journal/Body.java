package org.mllpserver.journal;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The field encoding of record bodies, big-endian: a UUID is 16 bytes, a time is int64 epoch
 * milliseconds, a string is int32 length + UTF-8, bytes are int32 length + bytes, a list is
 * int32 count + elements. Each body starts with its own format version byte.
 */
final class Body {

    private Body() {
    }

    static final class Writer {
        private ByteBuffer out;

        /** {@code expectedBytes}: a good guess avoids regrowing (the raw message dominates). */
        Writer(int expectedBytes) {
            out = ByteBuffer.allocate(Math.max(64, expectedBytes));
        }

        Writer() {
            this(256);
        }

        Writer version(int version) {
            ensure(1).put((byte) version);
            return this;
        }

        Writer uuid(UUID id) {
            ensure(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
            return this;
        }

        Writer time(Instant time) {
            ensure(8).putLong(time.toEpochMilli());
            return this;
        }

        Writer string(String value) {
            return bytes(value.getBytes(StandardCharsets.UTF_8));
        }

        Writer number(long value) {
            ensure(8).putLong(value);
            return this;
        }

        Writer strings(List<String> values) {
            ensure(4).putInt(values.size());
            for (String v : values) string(v);
            return this;
        }

        Writer bytes(byte[] value) {
            ensure(4 + value.length).putInt(value.length).put(value);
            return this;
        }

        byte[] toByteArray() {
            return java.util.Arrays.copyOf(out.array(), out.position());
        }

        private ByteBuffer ensure(int more) {
            if (out.remaining() < more) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + more));
                out.flip();
                bigger.put(out);
                out = bigger;
            }
            return out;
        }
    }

    /** Reads a body; a malformed body throws {@link IllegalArgumentException}. */
    static final class Reader {
        private final ByteBuffer in;

        Reader(byte[] body) {
            this.in = ByteBuffer.wrap(body);
        }

        int version() {
            return get(() -> in.get() & 0xFF);
        }

        UUID uuid() {
            return get(() -> new UUID(in.getLong(), in.getLong()));
        }

        Instant time() {
            return get(() -> Instant.ofEpochMilli(in.getLong()));
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        long number() {
            return get(in::getLong);
        }

        List<String> strings() {
            int count = get(in::getInt);
            if (count < 0 || count > in.remaining()) throw new IllegalArgumentException("bad list length " + count);
            List<String> values = new ArrayList<>(count);
            for (int i = 0; i < count; i++) values.add(string());
            return List.copyOf(values);
        }

        byte[] bytes() {
            int length = get(in::getInt);
            if (length < 0 || length > in.remaining()) throw new IllegalArgumentException("bad length " + length);
            byte[] value = new byte[length];
            in.get(value);
            return value;
        }

        private <T> T get(java.util.function.Supplier<T> read) {
            try {
                return read.get();
            } catch (BufferUnderflowException e) {
                throw new IllegalArgumentException("the body ends early", e);
            }
        }
    }
}
