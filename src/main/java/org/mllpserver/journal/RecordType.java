package org.mllpserver.journal;

/** The kinds of journal record; the code is the type byte on disk and never changes meaning. */
public enum RecordType {
    /** Opens each write batch: the length of the records that follow and the time of the write. */
    BATCH(1),
    /** An accepted message: raw bytes and metadata ({@link StoredMessage}). */
    MESSAGE(2),
    /** A frame refused at intake (answered AE), kept raw with the reason ({@link RefusedFrame}). */
    REFUSED_FRAME(3),
    /** A record a connector could not deliver, with the message itself ({@link DeadLetter}). */
    DEAD_LETTER(4),
    /** A dead letter purged ({@link DeadLetterResolution}). */
    DEAD_LETTER_RESOLVED(5),
    /** A dead letter replayed: resolves it and carries the message again to the chosen connectors ({@link Replay}). */
    REPLAY(6);

    private final byte code;

    RecordType(int code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    /** The type for a type byte, or null when this version does not know it. */
    static RecordType of(byte code) {
        for (RecordType type : values()) if (type.code == code) return type;
        return null;
    }
}
