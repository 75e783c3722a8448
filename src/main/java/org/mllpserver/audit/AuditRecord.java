package org.mllpserver.audit;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Instant;

/**
 * One audit record as stored: its place in the chain and what happened. The body on disk
 * (inside the framing of {@link AuditFormat}), big-endian, version 1:
 * <pre>
 *   version   byte     1
 *   seq       int64    this record's sequence number: one more than the record before it
 *   prevHash  32 bytes SHA-256 of the previous record's body (zeros before sequence number 0)
 *   batch     int64    sequence number of the first record of the write this one was part of
 *   kind      byte     {@link AuditKind} code
 *   flags     byte     bit 0: recovered from the journal
 *   time      int64    epoch milliseconds
 *   peer, tls identity, MSH-3, MSH-4, MSH-9, MSH-10      texts (int32 length + UTF-8)
 *   record id (presence byte + 16), journal position int64
 *   payload sha256 (presence byte + 32), payload bytes int64
 *   ack code text, reasons (int16 count + texts)
 *   connector text, attempts int32
 *   who text, action text, dead letter id (presence byte + 16)
 *   segment (presence byte + first seq int64, last seq int64, last hash 32)
 *   detail text
 * </pre>
 * A record's {@link #hash} is the SHA-256 of this body; the next record carries it as its
 * {@code prevHash}, so a record cannot be changed, removed or moved without breaking the chain
 * after it. {@code batch} is not part of what the record says: it only lets a reader tell a torn
 * last write from damage.
 */
public record AuditRecord(long seq, Sha256 prevHash, long batch, AuditEvent event, Sha256 hash) {

    static final int VERSION = 1;
    /** Version, seq, prevHash, batch: what precedes the event in every body. */
    static final int CHAIN_BYTES = 1 + 8 + Sha256.BYTES + 8;
    /** What a body usually takes (measured: about 260 bytes a record on disk): the encoder's first buffer. */
    private static final int TYPICAL_BODY_BYTES = 512;
    /** Offsets in a body, for the cheap checks of a scan for later records. */
    static final int SEQ_OFFSET = 1;
    static final int BATCH_OFFSET = 1 + 8 + Sha256.BYTES;
    /** Texts in a body besides the reasons: peer, tls identity, MSH-3/4/9/10, ack code, connector, who, action, detail. */
    private static final int TEXT_FIELDS = 11;
    private static final int FIXED_EVENT_BYTES = 1 + 1 + 8 + 17 + 8 + 33 + 8 + 2 + 4 + 17 + 1 + 8 + 8 + Sha256.BYTES;
    /** The most a body can hold, from the field bounds: a UTF-8 character takes at most 3 bytes. */
    static final int MAX_BODY_BYTES = CHAIN_BYTES + FIXED_EVENT_BYTES
            + (TEXT_FIELDS + AuditEvent.MAX_REASONS) * (4 + 3 * AuditEvent.MAX_FIELD_CHARS);
    /** The least a body can hold: every text empty, every optional absent. */
    static final int MIN_BODY_BYTES = CHAIN_BYTES + 1 + 1 + 8 + 1 + 8 + 1 + 8 + 2 + 4 + 1 + 1 + TEXT_FIELDS * 4;

    /** The body of a record with these chain fields and event. */
    static byte[] encode(long seq, Sha256 prevHash, long batch, AuditEvent e) {
        Binary.Writer out = new Binary.Writer(TYPICAL_BODY_BYTES)
                .u8(VERSION).i64(seq).sha(prevHash).i64(batch)
                .u8(e.kind().code()).u8(e.recovered() ? 1 : 0).i64(e.time().toEpochMilli())
                .text(e.sender().address()).text(e.sender().tlsIdentity())
                .text(e.header().sendingApplication()).text(e.header().sendingFacility())
                .text(e.header().messageType()).text(e.header().controlId())
                .uuid(e.stored().recordId()).i64(e.stored().position())
                .optionalSha(e.payload().sha256()).i64(e.payload().bytes())
                .text(e.answer().ackCode()).texts(e.answer().reasons())
                .text(e.delivery().connector()).i32(e.delivery().attempts())
                .text(e.operator().who()).text(e.operator().action()).uuid(e.operator().deadLetterId());
        out.u8(e.segment().isPresent() ? 1 : 0);
        e.segment().ifPresent(s -> out.i64(s.firstSeq()).i64(s.lastSeq()).sha(s.lastHash()));
        byte[] body = out.text(e.detail()).toByteArray();
        if (body.length > MAX_BODY_BYTES) throw new IllegalStateException("a body of " + body.length + " bytes: the field bounds are broken");
        return body;
    }

    /**
     * The record in {@code body} (a checksummed body; this reads it from its position to its
     * limit), with its hash. Throws {@link IllegalArgumentException} when it is not a version 1
     * body: a record with a good checksum that does not decode was not written by this code.
     */
    static AuditRecord decode(ByteBuffer body, MessageDigest digest) {
        ByteBuffer copy = body.slice();
        digest.reset();
        digest.update(copy.duplicate());
        Sha256 hash = Sha256.of(digest.digest());
        Binary.Reader in = new Binary.Reader(copy);
        int version = in.u8();
        if (version != VERSION) throw new IllegalArgumentException("record version " + version + " is not known");
        long seq = in.i64();
        Sha256 prevHash = in.sha();
        long batch = in.i64();
        AuditEvent event = decodeEvent(in);
        if (in.remaining() != 0) throw new IllegalArgumentException(in.remaining() + " byte(s) after the last field");
        return new AuditRecord(seq, prevHash, batch, event, hash);
    }

    private static AuditEvent decodeEvent(Binary.Reader in) {
        int code = in.u8();
        AuditKind kind = AuditKind.ofCode((byte) code).orElseThrow(() -> new IllegalArgumentException("unknown kind " + code));
        int flags = in.u8();
        if (flags > 1) throw new IllegalArgumentException("unknown flags " + flags);
        Instant time = Instant.ofEpochMilli(in.i64());
        var sender = new AuditEvent.Sender(in.text(), in.text());
        var header = new AuditEvent.Header(in.text(), in.text(), in.text(), in.text());
        var stored = new AuditEvent.Stored(in.uuid(), in.i64());
        var payload = new AuditEvent.Payload(in.optionalSha(), in.i64());
        var answer = new AuditEvent.Answer(in.text(), in.texts());
        var delivery = new AuditEvent.Attempts(in.text(), in.i32());
        var operator = new AuditEvent.Operator(in.text(), in.text(), in.uuid());
        java.util.Optional<AuditEvent.SegmentRef> segment = in.present()
                ? java.util.Optional.of(new AuditEvent.SegmentRef(in.i64(), in.i64(), in.sha())) : java.util.Optional.empty();
        return new AuditEvent(kind, time, flags == 1, sender, header, stored, payload, answer, delivery, operator, segment, in.text());
    }

    /** What recovery needs of a record: its kind, the journal record it names and that record's position. */
    record StoredFacts(AuditKind kind, java.util.Optional<java.util.UUID> recordId, long position) {}

    /**
     * The kind, record id and journal position of a body, without decoding the rest or hashing it
     * (recovery reads hundreds of thousands of records at start). Throws as {@link #decode} does.
     */
    static StoredFacts storedFacts(ByteBuffer body) {
        Binary.Reader in = new Binary.Reader(body.slice());
        int version = in.u8();
        if (version != VERSION) throw new IllegalArgumentException("record version " + version + " is not known");
        in.skip(8 + Sha256.BYTES + 8);
        int code = in.u8();
        AuditKind kind = AuditKind.ofCode((byte) code).orElseThrow(() -> new IllegalArgumentException("unknown kind " + code));
        in.skip(1 + 8);
        for (int i = 0; i < 6; i++) in.skipText(); // peer, tls identity, MSH-3, -4, -9, -10
        return new StoredFacts(kind, in.uuid(), in.i64());
    }

    /** The sequence number a body declares, read without decoding it (the scan's cheap check). */
    static long seqOf(ByteBuffer buffer, int bodyStart) {
        return buffer.getLong(bodyStart + SEQ_OFFSET);
    }

    static long batchOf(ByteBuffer buffer, int bodyStart) {
        return buffer.getLong(bodyStart + BATCH_OFFSET);
    }

    public AuditKind kind() {
        return event.kind();
    }
}
