package org.mllpserver.journal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        private final DataOutputStream out = new DataOutputStream(bytes);

        Writer version(int version) {
            return run(() -> out.writeByte(version));
        }

        Writer uuid(UUID id) {
            return run(() -> {
                out.writeLong(id.getMostSignificantBits());
                out.writeLong(id.getLeastSignificantBits());
            });
        }

        Writer time(Instant time) {
            return run(() -> out.writeLong(time.toEpochMilli()));
        }

        Writer string(String value) {
            return bytes(value.getBytes(StandardCharsets.UTF_8));
        }

        Writer strings(List<String> values) {
            run(() -> out.writeInt(values.size()));
            for (String v : values) string(v);
            return this;
        }

        Writer bytes(byte[] value) {
            return run(() -> {
                out.writeInt(value.length);
                out.write(value);
            });
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }

        private Writer run(IoAction action) {
            try {
                action.run();
                return this;
            } catch (IOException e) {
                throw new UncheckedIOException("writing to memory cannot fail", e);
            }
        }

        private interface IoAction {
            void run() throws IOException;
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
