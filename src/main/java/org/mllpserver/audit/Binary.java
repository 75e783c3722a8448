package org.mllpserver.audit;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** The primitive fields of a record body, big-endian: texts as int32 length + UTF-8, optionals behind a presence byte. */
final class Binary {

    private Binary() {
    }

    /** Builds a body; grows as needed. */
    static final class Writer {
        private ByteBuffer out;

        Writer(int initialBytes) {
            out = ByteBuffer.allocate(initialBytes);
        }

        private Writer room(int bytes) {
            if (out.remaining() < bytes) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + bytes));
                out.flip();
                bigger.put(out);
                out = bigger;
            }
            return this;
        }

        Writer u8(int value) {
            room(1).out.put((byte) value);
            return this;
        }

        Writer i32(int value) {
            room(4).out.putInt(value);
            return this;
        }

        Writer i64(long value) {
            room(8).out.putLong(value);
            return this;
        }

        Writer sha(Sha256 value) {
            room(Sha256.BYTES);
            value.writeTo(out);
            return this;
        }

        Writer text(String value) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            room(4 + bytes.length).out.putInt(bytes.length).put(bytes);
            return this;
        }

        Writer texts(List<String> values) {
            room(2).out.putShort((short) values.size());
            for (String value : values) text(value);
            return this;
        }

        Writer uuid(Optional<UUID> value) {
            u8(value.isPresent() ? 1 : 0);
            value.ifPresent(id -> room(16).out.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()));
            return this;
        }

        Writer optionalSha(Optional<Sha256> value) {
            u8(value.isPresent() ? 1 : 0);
            value.ifPresent(this::sha);
            return this;
        }

        byte[] toByteArray() {
            byte[] bytes = new byte[out.position()];
            out.get(0, bytes);
            return bytes;
        }
    }

    /** Reads a body; any field that runs past its end, or a bad value, throws {@link IllegalArgumentException}. */
    static final class Reader {
        private final ByteBuffer in;

        Reader(ByteBuffer body) {
            this.in = body;
        }

        int u8() {
            try {
                return in.get() & 0xFF;
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        int i32() {
            try {
                return in.getInt();
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        long i64() {
            try {
                return in.getLong();
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
        }

        Sha256 sha() {
            byte[] bytes = take(Sha256.BYTES);
            return Sha256.of(bytes);
        }

        String text() {
            int length = i32();
            if (length < 0 || length > in.remaining()) throw new IllegalArgumentException("a text of " + length + " bytes runs past the record");
            return new String(take(length), StandardCharsets.UTF_8);
        }

        List<String> texts() {
            int count;
            try {
                count = in.getShort() & 0xFFFF;
            } catch (BufferUnderflowException e) {
                throw truncated();
            }
            if (count > AuditEvent.MAX_REASONS) throw new IllegalArgumentException(count + " reasons, more than are ever written");
            List<String> values = new ArrayList<>(count);
            for (int i = 0; i < count; i++) values.add(text());
            return List.copyOf(values);
        }

        Optional<UUID> uuid() {
            if (!present()) return Optional.empty();
            return Optional.of(new UUID(i64(), i64()));
        }

        Optional<Sha256> optionalSha() {
            return present() ? Optional.of(sha()) : Optional.empty();
        }

        boolean present() {
            int flag = u8();
            if (flag > 1) throw new IllegalArgumentException("a presence byte of " + flag);
            return flag == 1;
        }

        void skip(int bytes) {
            if (bytes > in.remaining()) throw truncated();
            in.position(in.position() + bytes);
        }

        void skipText() {
            int length = i32();
            if (length < 0 || length > in.remaining()) throw new IllegalArgumentException("a text of " + length + " bytes runs past the record");
            in.position(in.position() + length);
        }

        int remaining() {
            return in.remaining();
        }

        private byte[] take(int length) {
            if (length > in.remaining()) throw truncated();
            byte[] bytes = new byte[length];
            in.get(bytes);
            return bytes;
        }

        private static IllegalArgumentException truncated() {
            return new IllegalArgumentException("a field runs past the end of the record");
        }
    }
}
