package org.mllpserver.audit;

import org.mllpserver.journal.ChannelFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The end of the chain on disk: links records into the chain, writes them after the last forced
 * write of the active segment and forces them, rolls to a new segment when one is full, and cuts
 * back a write that failed halfway. Used by {@link AuditLog}'s writer thread only (and by its
 * close after that thread ended); not thread-safe.
 */
final class ChainWriter {

    private static final System.Logger LOG = System.getLogger(ChainWriter.class.getName());

    private final Path directory;
    private final long segmentBytes;
    private final Clock clock;
    private final ChannelFactory channels;
    private final LongSupplier nonces;
    private final MessageDigest digest = Sha256.newDigest();
    private final ByteBuffer writeBuffer;
    private FileChannel active;
    private long activeNonce;
    private long activeSize;   // the end of the last forced write
    private long nextSeq;
    private Sha256 lastHash;
    private boolean tailInDoubt; // a write was started and not forced: bytes past activeSize may be on disk

    ChainWriter(AuditLog.Settings settings, Clock clock, ChannelFactory channels, LongSupplier nonces, TailRecovery.Tail tail,
                int writeBufferBytes) throws IOException {
        this.directory = settings.directory();
        this.segmentBytes = settings.segmentBytes();
        this.clock = clock;
        this.channels = channels;
        this.nonces = nonces;
        this.writeBuffer = ByteBuffer.allocateDirect(writeBufferBytes);
        this.active = channels.open(tail.file(), StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.activeNonce = tail.nonce();
        this.activeSize = tail.size();
        this.nextSeq = tail.nextSeq();
        this.lastHash = tail.lastHash();
    }

    AuditLog.Head head() {
        return new AuditLog.Head(nextSeq - 1, lastHash);
    }

    /**
     * Writes these bodies (chain fields blank) as one write: rolls first when it would overflow
     * the segment, puts a {@code segment_started} record first in a segment that has none, links
     * the records into the chain, then write, force, and only then moves the head. After a failure
     * (an Error too) the next call first cuts off what the failed write may have left.
     */
    AuditLog.Head write(List<byte[]> eventBodies) throws IOException {
        if (tailInDoubt) repairTail();
        if (activeSize > AuditFormat.HEADER_BYTES && activeSize + framedBytes(eventBodies) > segmentBytes) roll();
        List<byte[]> bodies = new ArrayList<>(eventBodies.size() + 1);
        if (activeSize == AuditFormat.HEADER_BYTES) bodies.add(segmentStarted());
        bodies.addAll(eventBodies);
        Sha256 last = chain(bodies);
        ByteBuffer buffer = frame(bodies);
        tailInDoubt = true; // from the first byte written until the force returns
        AuditFormat.writeFully(active, buffer, activeSize);
        active.force(false);
        tailInDoubt = false;
        activeSize += buffer.limit();
        nextSeq += bodies.size();
        lastHash = last;
        return head();
    }

    /**
     * The seal: an {@code audit_closed} record after the last write, so that damage to that write
     * is not taken for a torn one. It carries the journal's end when the server closed the
     * journal first ({@code journalEnd}, else -1): a start that finds the journal ending there has
     * nothing to rebuild from it.
     */
    AuditLog.Head seal(long journalEnd) throws IOException {
        return write(List.of(AuditRecord.encode(0, Sha256.ZERO, 0, AuditEvent.sealed(clock.instant(), journalEnd))));
    }

    /** Called when a write failed in a way this class did not see (an Error): the tail is in doubt. */
    void failed() {
        tailInDoubt = true;
    }

    void close() throws IOException {
        active.close();
    }

    /** Fills in each body's sequence number, previous hash and first record of its write; returns the last body's hash. */
    private Sha256 chain(List<byte[]> bodies) {
        Sha256 prev = lastHash;
        long seq = nextSeq;
        for (byte[] body : bodies) {
            ByteBuffer.wrap(body).putLong(AuditRecord.SEQ_OFFSET, seq).put(AuditRecord.SEQ_OFFSET + 8, prev.bytes())
                    .putLong(AuditRecord.BATCH_OFFSET, nextSeq);
            prev = Sha256.hash(digest, body, 0, body.length);
            seq++;
        }
        return prev;
    }

    /** The framed records, in the write buffer (or, for an outsized write, a buffer of its own). */
    private ByteBuffer frame(List<byte[]> bodies) {
        long bytes = framedBytes(bodies);
        ByteBuffer buffer = bytes <= writeBuffer.capacity() ? writeBuffer.clear() : ByteBuffer.allocate(Math.toIntExact(bytes));
        for (byte[] body : bodies) AuditFormat.frame(buffer, activeNonce, body);
        return buffer.flip();
    }

    static long framedBytes(List<byte[]> bodies) {
        long bytes = 0;
        for (byte[] body : bodies) bytes += AuditFormat.FRAME_BYTES + body.length;
        return bytes;
    }

    private byte[] segmentStarted() {
        String detail = nextSeq == 0 ? "the audit's first segment"
                : "follows the segment ending at sequence number " + (nextSeq - 1) + " with sha256 " + lastHash.hex();
        return AuditRecord.encode(0, Sha256.ZERO, 0, AuditEvent.internal(AuditKind.SEGMENT_STARTED, clock.instant(), detail));
    }

    /** Starts the next segment at the next sequence number: header forced, directory entry forced. */
    private void roll() throws IOException {
        long first = nextSeq;
        long nonce = nonces.getAsLong();
        Path path = directory.resolve(AuditFormat.fileName(first));
        FileChannel next;
        try {
            next = channels.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            try {
                AuditFormat.writeFully(next, AuditFormat.header(first, nonce), 0);
                next.force(true);
                AuditFormat.forceDirectory(directory);
            } catch (IOException | RuntimeException e) {
                next.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            deleteQuietly(path); // the next attempt creates it again; a crash first leaves a segment without a record, started again at open
            throw e;
        }
        active.close();
        active = next;
        activeNonce = nonce;
        activeSize = AuditFormat.HEADER_BYTES;
        LOG.log(DEBUG, "audit: started segment {0}", path.getFileName());
    }

    /** A failed write may have left part of itself: cut the file back to the end of the last forced write. */
    private void repairTail() throws IOException {
        active.truncate(activeSize);
        active.force(true);
        tailInDoubt = false;
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(WARNING, "audit: could not remove " + path + " after a failed roll: " + e);
        }
    }
}
