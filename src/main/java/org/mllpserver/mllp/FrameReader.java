package org.mllpserver.mllp;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * Reads MLLP frames from a byte source. Bytes only: it knows nothing of HL7.
 *
 * <p>Wire format (MLLP release 1): {@code 0x0B payload 0x1C 0x0D}. What this reader promises:
 * <ul>
 *   <li>Bytes before {@code 0x0B} are junk: discarded and counted ({@link #junkBytes()}).
 *   <li>A frame ends at the first {@code 0x1C}. The frame is returned at once; an optional
 *       {@code 0x0D} and, after it, an optional {@code 0x0A} are swallowed when they arrive. The
 *       reader never waits for the trailer, so a sender that omits the {@code 0x0D} still gets
 *       its answer.
 *   <li>A {@code 0x0B} inside a frame is payload: nothing the sender sent is dropped silently.
 *   <li>A frame longer than {@code maxFrameBytes} is refused with {@link TooLarge} before more
 *       than {@code maxFrameBytes} bytes of it are held; the caller then closes the connection.
 *   <li>Waiting for the first byte of a frame is bounded by the idle timeout, counted from the
 *       call to {@link #next()}; a started frame must be complete within the frame timeout, a
 *       deadline counted from its {@code 0x0B} (a slow drip of bytes does not extend it).
 * </ul>
 *
 * <p>Threading: one reader per connection, called only by that connection's thread; the
 * {@code frameStarted} callback runs on that thread when a start byte is consumed.
 */
public final class FrameReader {

    public static final byte START_BLOCK = 0x0B;
    public static final byte END_BLOCK = 0x1C;
    public static final byte CARRIAGE_RETURN = 0x0D;
    static final byte LINE_FEED = 0x0A;

    /** Read buffer size: one socket read; a bigger frame is assembled over several reads. */
    static final int READ_BUFFER_BYTES = 16 * 1024;
    /** A frame accumulator above this size is dropped after its frame, so idle connections stay small. */
    private static final int RETAINED_FRAME_BYTES = 64 * 1024;

    /** A blocking byte source with a per-call timeout; a timeout surfaces as {@link SocketTimeoutException}. */
    @FunctionalInterface
    public interface Source {
        /** Like {@link java.io.InputStream#read(byte[], int, int)}: -1 at end of stream. */
        int read(byte[] buffer, int offset, int length, Duration timeout) throws IOException;
    }

    /** What {@link #next()} found. */
    public sealed interface Result permits Frame, EndOfStream, TooLarge, TimedOut {}

    /** A complete frame: the bytes between {@code 0x0B} and {@code 0x1C}. */
    public record Frame(byte[] payload) implements Result {}

    /** The peer closed the connection; {@code partialFrameBytes} of an unfinished frame were discarded. */
    public record EndOfStream(int partialFrameBytes) implements Result {}

    /** A frame grew past the limit; {@code head} holds its first bytes (up to the limit). */
    public record TooLarge(byte[] head, int maxFrameBytes) implements Result {}

    /** No frame started within the idle timeout, or a started frame missed its deadline. */
    public record TimedOut(boolean inFrame, int partialFrameBytes) implements Result {}

    private enum State { HUNTING, IN_FRAME, AFTER_END, AFTER_CR }

    private final Source source;
    private final int maxFrameBytes;
    private final Duration idleTimeout;
    private final Duration frameTimeout;
    private final LongSupplier nanoClock;
    private final Runnable frameStarted;

    private final byte[] buffer = new byte[READ_BUFFER_BYTES];
    private int position; // next unread byte in buffer
    private int limit;    // end of valid bytes in buffer
    private State state = State.HUNTING;

    private byte[] frame;
    private int frameLength;
    private long frameDeadlineNanos;
    private long junkBytes;

    public FrameReader(Source source, int maxFrameBytes, Duration idleTimeout, Duration frameTimeout,
                       LongSupplier nanoClock) {
        this(source, maxFrameBytes, idleTimeout, frameTimeout, nanoClock, () -> { });
    }

    /** As above; {@code frameStarted} is told each time a start byte begins a frame. */
    public FrameReader(Source source, int maxFrameBytes, Duration idleTimeout, Duration frameTimeout,
                       LongSupplier nanoClock, Runnable frameStarted) {
        if (maxFrameBytes < 1) throw new IllegalArgumentException("maxFrameBytes must be positive");
        this.source = source;
        this.maxFrameBytes = maxFrameBytes;
        this.idleTimeout = idleTimeout;
        this.frameTimeout = frameTimeout;
        this.nanoClock = nanoClock;
        this.frameStarted = frameStarted;
        this.frame = new byte[initialFrameCapacity()];
    }

    /** The wire form of one frame: {@code 0x0B payload 0x1C 0x0D}, what {@link #next()} reads back. */
    public static byte[] frame(byte[] payload) {
        byte[] frame = new byte[payload.length + 3];
        frame[0] = START_BLOCK;
        System.arraycopy(payload, 0, frame, 1, payload.length);
        frame[payload.length + 1] = END_BLOCK;
        frame[payload.length + 2] = CARRIAGE_RETURN;
        return frame;
    }

    /** Blocks until a frame is complete, the stream ends, a limit is hit or a timeout expires. */
    public Result next() throws IOException {
        long idleDeadlineNanos = nanoClock.getAsLong() + idleTimeout.toNanos();
        while (true) {
            if (position == limit) {
                long deadline = state == State.IN_FRAME ? frameDeadlineNanos : idleDeadlineNanos;
                Result failure = fill(deadline);
                if (failure != null) return failure;
            }
            Result result = switch (state) {
                case AFTER_END -> swallow(CARRIAGE_RETURN, State.AFTER_CR);
                case AFTER_CR -> swallow(LINE_FEED, State.HUNTING);
                case HUNTING -> hunt();
                case IN_FRAME -> collect();
            };
            if (result != null) return result;
        }
    }

    /** Bytes discarded because they arrived outside a frame (trailer bytes not counted). */
    public long junkBytes() {
        return junkBytes;
    }

    /**
     * True while a frame is being assembled, or a start byte is already buffered: the connection
     * has a frame to finish. Trailer and junk bytes do not count.
     */
    boolean holdsFrameData() {
        return state == State.IN_FRAME || indexOf(START_BLOCK, position, limit) >= 0;
    }

    /** Capacity held for the frame being assembled; never above the frame limit. */
    int frameCapacity() {
        return frame.length;
    }

    private Result fill(long deadlineNanos) throws IOException {
        boolean inFrame = state == State.IN_FRAME;
        long remaining = deadlineNanos - nanoClock.getAsLong();
        if (remaining <= 0) return timedOut(inFrame);
        int n;
        try {
            n = source.read(buffer, 0, buffer.length, Duration.ofNanos(remaining));
        } catch (SocketTimeoutException e) {
            return timedOut(inFrame);
        }
        if (n < 0) return endOfStream();
        position = 0;
        limit = n;
        return null;
    }

    /** Consumes {@code expected} if it is the next byte; otherwise hands the byte to the hunt. */
    private Result swallow(byte expected, State whenFound) {
        if (buffer[position] == expected) {
            position++;
            state = whenFound;
        } else {
            state = State.HUNTING;
        }
        return null;
    }

    private Result hunt() {
        int start = indexOf(START_BLOCK, position, limit);
        if (start < 0) {
            junkBytes += limit - position;
            position = limit;
            return null;
        }
        junkBytes += start - position;
        position = start + 1;
        state = State.IN_FRAME;
        frameLength = 0;
        frameDeadlineNanos = nanoClock.getAsLong() + frameTimeout.toNanos();
        frameStarted.run();
        return null;
    }

    private Result collect() {
        int end = indexOf(END_BLOCK, position, limit);
        int chunkEnd = end < 0 ? limit : end;
        int chunk = chunkEnd - position;
        if (chunk > maxFrameBytes - frameLength) {
            append(position, maxFrameBytes - frameLength);
            return tooLarge();
        }
        append(position, chunk);
        if (end < 0) {
            position = limit;
            return null;
        }
        position = end + 1;
        state = State.AFTER_END;
        return completeFrame();
    }

    private void append(int from, int length) {
        int needed = frameLength + length;
        if (needed > frame.length) {
            int grown = (int) Math.min((long) maxFrameBytes, Math.max((long) frame.length * 2, needed));
            frame = Arrays.copyOf(frame, grown);
        }
        System.arraycopy(buffer, from, frame, frameLength, length);
        frameLength = needed;
    }

    private Frame completeFrame() {
        byte[] payload = Arrays.copyOf(frame, frameLength);
        if (frame.length > RETAINED_FRAME_BYTES) frame = new byte[initialFrameCapacity()];
        frameLength = 0;
        return new Frame(payload);
    }

    private TooLarge tooLarge() {
        byte[] head = Arrays.copyOf(frame, frameLength);
        frame = new byte[0];
        frameLength = 0;
        return new TooLarge(head, maxFrameBytes);
    }

    private int initialFrameCapacity() {
        return Math.min(4096, maxFrameBytes);
    }

    private TimedOut timedOut(boolean inFrame) {
        return new TimedOut(inFrame, inFrame ? frameLength : 0);
    }

    private EndOfStream endOfStream() {
        return new EndOfStream(state == State.IN_FRAME ? frameLength : 0);
    }

    private int indexOf(byte wanted, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buffer[i] == wanted) return i;
        }
        return -1;
    }
}
