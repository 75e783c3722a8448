package org.mllpserver.mllp;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
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
 *   <li>Memory: a frame that arrives in one read is copied once, straight into its payload; a
 *       longer one grows in chunks, 1 KiB doubling up to {@link #CHUNK_BYTES} (never by copying itself into an array
 *       twice its size) and is joined into its payload at its end. Every byte held is first
 *       reserved from the {@link FrameMemory}, which may make the reader wait (the connection is
 *       then not read) or refuse with {@link OverBudget}. What a returned frame holds stays
 *       reserved until the next call to {@link #next()}, since the caller handles it meanwhile.
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
    /**
     * A frame that does not arrive in one read is held in chunks: the first {@link #FIRST_CHUNK_BYTES},
     * each next one as large as all before it, up to this. So what a frame holds is never much
     * more than twice what arrived: a sender that sends one byte of a frame holds 1 KiB, not 16.
     */
    static final int CHUNK_BYTES = 16 * 1024;
    static final int FIRST_CHUNK_BYTES = 1024;
    /** The first bytes of a refused frame handed to the caller: an MSH segment fits many times over. */
    static final int HEAD_BYTES = 64 * 1024;

    /** A blocking byte source with a per-call timeout; a timeout surfaces as {@link SocketTimeoutException}. */
    @FunctionalInterface
    public interface Source {
        /** Like {@link java.io.InputStream#read(byte[], int, int)}: -1 at end of stream. */
        int read(byte[] buffer, int offset, int length, Duration timeout) throws IOException;
    }

    /** What {@link #next()} found. */
    public sealed interface Result permits Frame, EndOfStream, Unheld, TimedOut {}

    /** A frame that was refused before it was whole: its first bytes, so that it can be answered and kept. */
    public sealed interface Unheld extends Result permits TooLarge, OverBudget {
        /** The frame's first bytes, up to {@link #HEAD_BYTES}; they stay reserved until the next call or the connection's end. */
        byte[] head();
    }

    /** A complete frame: the bytes between {@code 0x0B} and {@code 0x1C}. */
    public record Frame(byte[] payload) implements Result {}

    /** The peer closed the connection; {@code partialFrameBytes} of an unfinished frame were discarded. */
    public record EndOfStream(int partialFrameBytes) implements Result {}

    /** A frame grew past the limit; {@code head} holds its first bytes (up to {@link #HEAD_BYTES}). */
    public record TooLarge(byte[] head, int maxFrameBytes) implements Unheld {}

    /**
     * A frame could not be held: the process's frame memory had no room for it in time, it had to
     * give way to a smaller frame, or it could never fit. {@code head} holds its first bytes (up to
     * {@link #HEAD_BYTES}), {@code receivedBytes} how many had arrived.
     */
    public record OverBudget(byte[] head, long receivedBytes, FrameMemory.Grant why) implements Unheld {}

    /** No frame started within the idle timeout, or a started frame missed its deadline. */
    public record TimedOut(boolean inFrame, int partialFrameBytes) implements Result {}

    private enum State { HUNTING, IN_FRAME, AFTER_END, AFTER_CR }

    private final Source source;
    private final int maxFrameBytes;
    private final Duration idleTimeout;
    private final Duration frameTimeout;
    private final LongSupplier nanoClock;
    private final Runnable frameStarted;
    private final FrameMemory memory;

    private final byte[] buffer = new byte[READ_BUFFER_BYTES];
    private int position; // next unread byte in buffer
    private int limit;    // end of valid bytes in buffer
    private State state = State.HUNTING;

    /** The unfinished frame's chunks; all full but the last. */
    private final ArrayList<byte[]> chunks = new ArrayList<>();
    /** Bytes in the chunks' arrays together. */
    private int chunkCapacity;
    private int frameLength;
    /** Bytes reserved from {@link #memory} for the current frame (or the last one returned). */
    private long reserved;
    private long frameDeadlineNanos;
    private long junkBytes;

    public FrameReader(Source source, int maxFrameBytes, Duration idleTimeout, Duration frameTimeout,
                       LongSupplier nanoClock) {
        this(source, maxFrameBytes, idleTimeout, frameTimeout, nanoClock, () -> { }, FrameMemory.UNLIMITED);
    }

    /**
     * As above; {@code frameStarted} is told each time a start byte begins a frame, and the bytes
     * of frames are reserved from {@code memory}.
     */
    public FrameReader(Source source, int maxFrameBytes, Duration idleTimeout, Duration frameTimeout,
                       LongSupplier nanoClock, Runnable frameStarted, FrameMemory memory) {
        if (maxFrameBytes < 1) throw new IllegalArgumentException("maxFrameBytes must be positive");
        this.source = source;
        this.maxFrameBytes = maxFrameBytes;
        this.idleTimeout = idleTimeout;
        this.frameTimeout = frameTimeout;
        this.nanoClock = nanoClock;
        this.frameStarted = frameStarted;
        this.memory = memory;
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
        releaseReserved(); // the caller is done with the frame returned last
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
        return chunkCapacity;
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
        } catch (IOException e) {
            if (inFrame && memory.gaveWay()) return overBudget(FrameMemory.Grant.GAVE_WAY); // its read was shut to wake it
            throw e;
        }
        if (inFrame && memory.gaveWay()) return overBudget(FrameMemory.Grant.GAVE_WAY);
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
        int length = chunkEnd - position;
        if (length > maxFrameBytes - frameLength) {
            Result refused = append(position, maxFrameBytes - frameLength);
            return refused != null ? refused : tooLarge();
        }
        if (end >= 0 && frameLength == 0) return wholeFrame(length); // it arrived in one read: one copy
        Result refused = append(position, length);
        if (refused != null) return refused;
        if (end < 0) {
            position = limit;
            return null;
        }
        position = end + 1;
        state = State.AFTER_END;
        return completeFrame();
    }

    /** A frame whose start and end are both in the buffer: copied straight into its payload. */
    private Result wholeFrame(int length) {
        FrameMemory.Grant grant = memory.reserveWhole(length, frameDeadlineNanos);
        if (grant != FrameMemory.Grant.GRANTED) {
            byte[] head = Arrays.copyOfRange(buffer, position, position + Math.min(length, HEAD_BYTES));
            state = State.HUNTING;
            position = limit; // the connection is closed after this: what is buffered is not looked at
            return new OverBudget(head, length, grant);
        }
        reserved += length;
        byte[] payload = Arrays.copyOfRange(buffer, position, position + length);
        position += length + 1;
        state = State.AFTER_END;
        return new Frame(payload);
    }

    /** Copies {@code length} bytes of the buffer into the frame's chunks; a result when memory was refused. */
    private Result append(int from, int length) {
        int at = from;
        int left = length;
        while (left > 0) {
            int room = chunkCapacity - frameLength; // free bytes at the end of the last chunk
            if (room == 0) {
                int size = Math.min(Math.clamp(chunkCapacity, FIRST_CHUNK_BYTES, CHUNK_BYTES), maxFrameBytes - chunkCapacity);
                FrameMemory.Grant grant = memory.reserve(size, frameDeadlineNanos);
                if (grant != FrameMemory.Grant.GRANTED) return overBudget(grant);
                reserved += size;
                chunks.add(new byte[size]);
                chunkCapacity += size;
                room = size;
            }
            byte[] last = chunks.getLast();
            int n = Math.min(left, room);
            System.arraycopy(buffer, at, last, last.length - room, n);
            at += n;
            left -= n;
            frameLength += n;
        }
        return null;
    }

    /** Joins the chunks into the payload; its reservation stays until the next call. */
    private Result completeFrame() {
        if (!memory.settle()) return overBudget(FrameMemory.Grant.GAVE_WAY);
        byte[] payload = new byte[frameLength];
        int at = 0;
        for (byte[] chunk : chunks) {
            int n = Math.min(chunk.length, frameLength - at);
            System.arraycopy(chunk, 0, payload, at, n);
            at += n;
        }
        dropFrame();
        return new Frame(payload);
    }

    private TooLarge tooLarge() {
        byte[] head = head();
        dropFrame();
        keepReservedOnly(head.length);
        state = State.HUNTING;
        return new TooLarge(head, maxFrameBytes);
    }

    private OverBudget overBudget(FrameMemory.Grant why) {
        byte[] head = head();
        long received = frameLength;
        dropFrame();
        keepReservedOnly(head.length);
        state = State.HUNTING;
        position = limit; // the connection is closed after this: what is buffered is not looked at
        return new OverBudget(head, received, why);
    }

    /** The first bytes of the frame being assembled, up to {@link #HEAD_BYTES}. */
    private byte[] head() {
        byte[] head = new byte[Math.min(frameLength, HEAD_BYTES)];
        int at = 0;
        for (byte[] chunk : chunks) {
            if (at == head.length) break;
            int n = Math.min(chunk.length, head.length - at);
            System.arraycopy(chunk, 0, head, at, n);
            at += n;
        }
        return head;
    }

    private void dropFrame() {
        chunks.clear();
        chunks.trimToSize();
        chunkCapacity = 0;
        frameLength = 0;
    }

    /** The head of a refused frame was copied out of reserved chunks: it keeps that much reserved. */
    private void keepReservedOnly(long bytes) {
        long keep = Math.min(bytes, reserved);
        memory.release(reserved - keep);
        reserved = keep;
    }

    private void releaseReserved() {
        if (reserved == 0) return;
        memory.release(reserved);
        reserved = 0;
    }

    private TimedOut timedOut(boolean inFrame) {
        TimedOut timedOut = new TimedOut(inFrame, inFrame ? frameLength : 0);
        dropFrame();
        releaseReserved();
        return timedOut;
    }

    private EndOfStream endOfStream() {
        EndOfStream end = new EndOfStream(state == State.IN_FRAME ? frameLength : 0);
        dropFrame();
        releaseReserved();
        return end;
    }

    private int indexOf(byte wanted, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buffer[i] == wanted) return i;
        }
        return -1;
    }
}
