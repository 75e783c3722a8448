package org.mllpserver.mllp;

/**
 * The memory one connection's {@link FrameReader} may hold for the frame it is reading, granted
 * by a process-wide {@link FrameBudget} (or without limit, for clients and tests).
 *
 * <p>Protocol, on the connection's thread only: {@link #reserve} before bytes are held (it may
 * block: the connection is then not read, which is the backpressure), {@link #settle} when the
 * frame is complete (from then on its bytes cannot be asked back), {@link #release} when they
 * are no longer referenced. {@link #gaveWay()} may turn true at any time from another thread:
 * the budget asked this connection to give up its unfinished frame to make room for a smaller one.
 */
public interface FrameMemory {

    /** What {@link #reserve} decided. */
    enum Grant {
        /** The bytes are reserved. */
        GRANTED,
        /** The deadline passed before room was free. */
        TIMED_OUT,
        /** This connection was asked to give up its frame (or is being closed). */
        GAVE_WAY,
        /** The frame would need more than the whole budget: it can never be held. */
        NEVER_FITS
    }

    /** Reserves {@code bytes} more, waiting until {@code deadlineNanos} (on the budget's clock) for room. */
    Grant reserve(int bytes, long deadlineNanos);

    /** Reserves room for a frame that is already complete (it arrived in one read): it is never asked back. */
    Grant reserveWhole(int bytes, long deadlineNanos);

    /** The unfinished frame is now complete; false when it was already asked to give way (it must then be given up). */
    boolean settle();

    /** Gives back bytes reserved earlier. */
    void release(long bytes);

    /** True once this connection has been asked to give up its unfinished frame. */
    boolean gaveWay();

    /** No limit: a client reading replies, a test. */
    FrameMemory UNLIMITED = new FrameMemory() {
        @Override
        public Grant reserve(int bytes, long deadlineNanos) {
            return Grant.GRANTED;
        }

        @Override
        public Grant reserveWhole(int bytes, long deadlineNanos) {
            return Grant.GRANTED;
        }

        @Override
        public boolean settle() {
            return true;
        }

        @Override
        public void release(long bytes) {
        }

        @Override
        public boolean gaveWay() {
            return false;
        }
    };
}
