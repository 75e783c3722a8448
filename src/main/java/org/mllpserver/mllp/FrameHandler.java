package org.mllpserver.mllp;

import java.util.Optional;

/**
 * What the listener calls for each frame: the layer above (intake) turns a frame into the
 * payload of the reply frame. Called on the connection's own thread, one frame at a time, so
 * replies go out in the order the frames came in.
 */
public interface FrameHandler {

    /** The reply payload, or empty when no reply is due (an enhanced-mode sender asked for none). */
    Optional<byte[]> onFrame(byte[] payload, Peer peer);

    /**
     * A frame was refused before it was whole: too large, or the process's memory for frames
     * could not hold it. Its first bytes are in {@code frame.head()}. The reply (a NAK if the
     * control id could be read) is sent, then the connection is closed.
     */
    Optional<byte[]> onUnheldFrame(FrameReader.Unheld frame, Peer peer);
}
