package org.mllpserver.mllp;

import java.util.concurrent.atomic.AtomicLong;

/** Counters kept by a listener; read by tests now and exported as metrics by telemetry later. */
public final class ListenerStats {
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong refusedOverLimit = new AtomicLong();
    final AtomicLong refusedAtCeiling = new AtomicLong();
    final AtomicLong overBudgetFrames = new AtomicLong();
    final AtomicLong open = new AtomicLong();
    final AtomicLong frames = new AtomicLong();
    final AtomicLong junkBytes = new AtomicLong();
    final AtomicLong idleTimeouts = new AtomicLong();
    final AtomicLong frameTimeouts = new AtomicLong();
    final AtomicLong oversizeFrames = new AtomicLong();
    final AtomicLong handshakeFailures = new AtomicLong();

    public long accepted() { return accepted.get(); }
    /** Connections refused because MAX_CONNECTIONS was reached on this listener. */
    public long refusedOverLimit() { return refusedOverLimit.get(); }
    /** Connections refused because the process's connection ceiling was reached and no idle one could make room. */
    public long refusedAtCeiling() { return refusedAtCeiling.get(); }
    /** Frames refused because the memory for frames in flight (MAX_INFLIGHT_BYTES) could not hold them. */
    public long overBudgetFrames() { return overBudgetFrames.get(); }
    public long open() { return open.get(); }
    public long frames() { return frames.get(); }
    public long junkBytes() { return junkBytes.get(); }
    public long idleTimeouts() { return idleTimeouts.get(); }
    public long frameTimeouts() { return frameTimeouts.get(); }
    public long oversizeFrames() { return oversizeFrames.get(); }
    /** TLS handshakes that failed, timed out or presented a client the server does not allow. */
    public long handshakeFailures() { return handshakeFailures.get(); }
}
