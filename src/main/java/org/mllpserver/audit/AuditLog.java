package org.mllpserver.audit;

import org.mllpserver.events.Events;
import org.mllpserver.journal.ChannelFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;

/**
 * The audit trail: one record for every frame answered, every final delivery outcome, every
 * operator action, configuration load and TLS reload, in a hash chain on disk. Never message
 * content: a frame's payload is kept only as its SHA-256 and size.
 *
 * <p><b>On disk</b> ({@code DATA_DIR/audit}). Segment files {@code <sequence number of their
 * first record, 20 digits>.audit}: a 24-byte header ({@code MLLPAUD1}, that sequence number, a
 * random nonce), then records framed as {@code length (int32), CRC32C (int32, over the nonce, the
 * length and the body), body} ({@link AuditFormat}); the body holds the record's sequence number,
 * the SHA-256 of the record before it (across segments), the sequence number of the first record
 * of its write, and the event's fields ({@link AuditRecord}). Every segment begins with a
 * {@code segment_started} record, whose previous-hash is the last hash of the segment before, so a
 * segment stays verifiable when retention has deleted the ones before it. A clean close ends the
 * last segment with an {@code audit_closed} record (the seal). A file {@code audit.lock} is locked
 * while a writer has the directory open; readers never take it.
 *
 * <p><b>Invariants.</b> (1) Sequence numbers go up by one from record to record, across
 * segments, and a segment's name is its first record's; (2) each record names the SHA-256 of the
 * record before it; (3) everything before the end of the last forced write is whole; only the write
 * in progress may be incomplete, and it is forced before the next one starts; (4) a segment is
 * closed when the next write would take it past the segment size; a new segment's header and
 * directory entry are forced before any record goes in it; (5) retention writes and forces a
 * {@code segment_deleted} record naming a segment's last sequence number and hash before it
 * deletes the file, so {@code audit verify} can tell retention from a segment deleted by hand.
 * What the chain detects: a changed byte (checksum, or the next record's previous-hash), a
 * record deleted, two records swapped (sequence numbers), a segment cut short or deleted (the next
 * segment's name and {@code segment_started}). What it cannot: the newest records cut off the last
 * segment at a record boundary, or the whole chain rewritten by someone who can write these
 * files. Against those, anchor {@link #head()} elsewhere (it is logged at open and close).
 *
 * <p><b>Threading.</b> The {@link Events} methods may be called by any number of threads and
 * only queue (never I/O, never a throw). One platform thread, the writer, takes what is queued,
 * hashes payloads, writes it as one write, forces once (group commit), then counts it durable.
 * Only the writer touches the active segment ({@link ChainWriter}). The queue holds at most {@link #MAX_QUEUED_EVENTS}
 * events and {@link #MAX_QUEUED_PAYLOAD_BYTES} of payloads not yet hashed; when it is full, the
 * caller waits (backpressure: a connection's answer waits for the audit rather than the audit
 * dropping its record). A failed write is retried (the record stays queued), so a failing audit
 * disk slows the server down to a stop rather than losing records; {@link #writerProblem} says so
 * for liveness. The writer outlives any {@link Error}. {@link #deleteExpired()} and
 * {@link #recoverFromJournal} run on the caller's thread, one caller at a time.
 *
 * <p><b>Opening</b> recovers the last segment (reading only it), then {@link #recoverFromJournal}
 * rebuilds what a crash lost:
 * <table>
 *   <tr><th>found</th><th>meaning</th><th>action</th></tr>
 *   <tr><td>no segment</td><td>a first start</td><td>create {@code 00000000000000000000.audit}</td></tr>
 *   <tr><td>a last segment ending with the seal of a clean close that names the journal's end
 *       ({@link #close(long)}), the journal ending there</td><td>a clean stop</td><td>append after it;
 *       {@link #recoverFromJournal(Path, long, long)} reads nothing</td></tr>
 *   <tr><td>a last segment whose records are whole and chained</td><td>normal</td><td>append after its last record</td></tr>
 *   <tr><td>a record that is not whole (length, checksum, cut off) in the last segment, and no
 *       whole record of a later write after it</td><td>a crash cut the last write short (its
 *       sectors may have reached the disk in any order)</td><td>truncate at that record; log it;
 *       write a {@code tail_repaired} record saying what was cut</td></tr>
 *   <tr><td>a last segment with no whole record (shorter than its header, header only)</td><td>a
 *       crash while a segment was started</td><td>write its header again; its first write begins
 *       with the {@code segment_started} that follows the segment before</td></tr>
 *   <tr><td>a bad record followed by a whole record of a later write, a sequence number or
 *       previous-hash out of place in the last segment, a bad header</td><td>damage or a change
 *       after the record was forced (after a clean close, the seal is such a later write)</td>
 *       <td>refuse to open, naming file, sequence number and what to do</td></tr>
 *   <tr><td>damage in older segments</td><td>not read at open</td><td>{@code audit verify} finds it
 *       (recovery, which reads the newest segments, logs it and stops reading there)</td></tr>
 *   <tr><td>journal records (MESSAGE, REFUSED_FRAME) from {@code highest audited journal position −
 *       slack} on, whose record id no audit record names</td><td>the crash came between the
 *       journal's force (after which AA may have gone out) and the audit's</td><td>{@link
 *       #recoverFromJournal} writes an {@code accepted} or {@code refused} record for each,
 *       marked recovered, with the time it was received (the journal does not keep the answer:
 *       AA or CA; AE or AR)</td></tr>
 *   <tr><td>an empty audit beside a journal that holds records</td><td>a first start with the
 *       audit, or an audit moved aside after damage</td><td>every record the journal still holds
 *       is recorded as recovered</td></tr>
 *   <tr><td>a duplicate, a storage failure, a delivery outcome, an operator action, a
 *       configuration load or TLS reload queued but not forced at the crash</td><td>none leaves a
 *       MESSAGE or REFUSED_FRAME record to rebuild it from (a duplicate and a storage failure are
 *       not stored at all)</td><td>lost with the last group commit: what was queued in the last
 *       milliseconds. A delivery whose cursor was not saved before the crash is delivered again
 *       after the restart and recorded then</td></tr>
 * </table>
 */
public final class AuditLog implements Events, AutoCloseable {

    /**
     * @param directory    DATA_DIR/audit
     * @param segmentBytes a segment is closed when the next write would take it past this size
     * @param retention    a closed segment is deleted once its last record is older than this (AUDIT_RETENTION)
     */
    public record Settings(Path directory, long segmentBytes, Duration retention) {
        /**
         * Opening reads and checks the whole last segment: a full 64 MiB one took 375 ms in a fresh
         * JVM, a quarter of the server's start from a checkpoint, so 16 MiB (about 60 000 records,
         * under 100 ms). Six years at 10 messages a second are then about 60 000 files.
         */
        public static final long DEFAULT_SEGMENT_BYTES = 16L << 20;
        /** The smallest segment: a few writes' worth (tests use it to roll often). */
        public static final long MIN_SEGMENT_BYTES = 64L << 10;
        /** Six years: HIPAA's retention period for documentation (45 CFR 164.316(b)(2)). */
        public static final Duration DEFAULT_RETENTION = Duration.ofDays(2190);

        public Settings {
            if (segmentBytes < MIN_SEGMENT_BYTES) throw new IllegalArgumentException("audit segments of at least " + MIN_SEGMENT_BYTES + " bytes");
            if (retention.isNegative() || retention.isZero()) throw new IllegalArgumentException("an audit retention must be positive");
        }

        /** The defaults, in {@code dataDir/audit}. */
        public static Settings in(Path dataDir) {
            return new Settings(dataDir.resolve("audit"), DEFAULT_SEGMENT_BYTES, DEFAULT_RETENTION);
        }
    }

    /** The last record: its sequence number and hash. What an operator anchors elsewhere. */
    public record Head(long seq, Sha256 hash) {
        @Override
        public String toString() {
            return "seq " + seq + ", sha256 " + hash.hex();
        }
    }

    /** Counters, for metrics and /api/status. */
    public record Stats(long written, long writes, long failedWrites, long producerWaits, long notRecorded, int queued) {}

    private static final System.Logger LOG = System.getLogger(AuditLog.class.getName());
    /**
     * Events queued and not yet taken by the writer. An event without its payload is a few hundred
     * bytes, so 16 384 hold a few MiB; at the journal's peak intake (about 27 000 messages a
     * second) that is over half a second of backlog, many forces' worth, before a caller waits.
     */
    static final int MAX_QUEUED_EVENTS = 16_384;
    /**
     * Payload bytes the queue holds for hashing (frames the intake has finished with stay alive
     * until hashed, outside MAX_INFLIGHT_BYTES): bounded like the journal's queue. A single larger
     * payload is admitted when nothing else waits.
     */
    static final long MAX_QUEUED_PAYLOAD_BYTES = 64L << 20;
    /** Events per write, at most: with MAX_WRITE_BYTES, the size of one group commit. */
    static final int MAX_WRITE_EVENTS = 4_096;
    /** Bytes per write, at most: enough to keep the disk busy, little enough to keep a write short. */
    static final int MAX_WRITE_BYTES = 1 << 20;
    /** A write's buffer: the most a write holds, with a segment_started and one largest record past the limit. */
    private static final int WRITE_BUFFER_BYTES = MAX_WRITE_BYTES + 2 * (AuditFormat.FRAME_BYTES + AuditRecord.MAX_BODY_BYTES);
    /**
     * The least time from one write's start to the next. Without it the writer forced whenever it
     * could, about 2 900 times a second beside the journal's 1 100 at 20 000 messages a second,
     * each fdatasync also committing the file's new size, which took a third of a core in the
     * kernel. A frame's record waits at most this long more to be forced, which costs no answer
     * anything (the answer waited for the journal's force, not the audit's), and what a crash
     * takes from the audit in that time is rebuilt from the journal (accepted and refused frames)
     * or is at most this much more of the rest.
     */
    static final Duration MIN_WRITE_INTERVAL = Duration.ofMillis(10);
    /** After a failed write, the writer waits this long before it tries again: a full disk is not cured in microseconds. */
    static final Duration RETRY_PAUSE = Duration.ofMillis(250);
    /** Failed writes between two log lines while a disk keeps failing (10 s at RETRY_PAUSE). */
    static final int FAILURES_PER_LOG_LINE = 40;
    /** Once closing, a write that fails this many times is given up: its records are logged, not written. */
    static final int ATTEMPTS_WHEN_CLOSING = 3;

    private final Settings settings;
    private final Clock clock;
    private final FileChannel lockChannel;
    private final FileLock dirLock;
    private final Thread writer;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Condition space = lock.newCondition();
    private final Condition settled = lock.newCondition();
    private final Condition closing = lock.newCondition();
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();  // guarded by lock
    private long queuedPayloadBytes;                               // guarded by lock; payloads queued or taken and not yet hashed
    private long enqueuedCount;                                    // guarded by lock; events ever queued
    private long settledCount;                                     // guarded by lock; of those, written (or given up at close)
    private boolean closed;                                        // guarded by lock

    private volatile Head head;
    /** What the last start found: the journal's end recorded in the seal of a clean close, if that is how it ended. */
    private final Optional<Long> openedSealedAtJournalEnd;
    /** The journal's end to write into the seal (-1: not known); set by {@link #close(long)}. */
    private volatile long sealJournalEnd = -1;
    private volatile long busySinceNanos;
    private volatile String lastFailure = "";
    private volatile int failuresInARow;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong failedWrites = new AtomicLong();
    private final AtomicLong producerWaits = new AtomicLong();
    private final AtomicLong notRecorded = new AtomicLong();

    // Writer thread only (and close(), after the writer ended):
    private final ArrayList<Entry> taken = new ArrayList<>(MAX_WRITE_EVENTS); // taken from the queue, not yet durable, in order
    private final MessageDigest digest = Sha256.newDigest();
    private final ChainWriter chain;

    /** One queued event; {@code payload} is the frame's bytes until the writer has hashed them, else null. */
    private record Entry(AuditEvent event, byte[] payload) {
        long payloadBytes() {
            return payload == null ? 0 : payload.length;
        }
    }

    private AuditLog(Settings settings, Clock clock, FileChannel lockChannel, FileLock dirLock, ChainWriter chain,
                     Optional<Long> sealedAtJournalEnd) {
        this.openedSealedAtJournalEnd = sealedAtJournalEnd;
        this.settings = settings;
        this.clock = clock;
        this.lockChannel = lockChannel;
        this.dirLock = dirLock;
        this.chain = chain;
        this.head = chain.head();
        this.writer = Thread.ofPlatform().name("audit-writer").daemon(false).unstarted(this::writeLoop);
    }

    /**
     * Opens (creating if needed) the audit in {@code settings.directory()}, recovering its last
     * segment, and starts the writer. Throws {@link AuditDamagedException} when the last segment is
     * damaged (see the table above), and an IOException when another process has it open. Call
     * {@link #recoverFromJournal} next, before frames are accepted.
     */
    public static AuditLog open(Settings settings, Clock clock, ChannelFactory channels) throws IOException {
        createDirectoriesDurably(settings.directory());
        FileChannel lockChannel = FileChannel.open(settings.directory().resolve(AuditFormat.LOCK_FILE),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock dirLock = tryLock(lockChannel, settings.directory());
        try {
            SecureRandom nonces = new SecureRandom();
            TailRecovery.Tail tail = TailRecovery.run(settings.directory(), channels, nonces::nextLong);
            ChainWriter chain = new ChainWriter(settings, clock, channels, nonces::nextLong, tail, WRITE_BUFFER_BYTES);
            AuditLog audit = new AuditLog(settings, clock, lockChannel, dirLock, chain, tail.sealedAtJournalEnd());
            tail.repaired().ifPresent(what -> audit.submit(AuditEvent.internal(AuditKind.TAIL_REPAIRED, clock.instant(), what), null));
            audit.writer.start();
            LOG.log(INFO, "audit {0}: opened, head {1}", settings.directory(), audit.head);
            return audit;
        } catch (IOException | RuntimeException e) {
            dirLock.release();
            lockChannel.close();
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel lockChannel, Path directory) throws IOException {
        FileLock dirLock;
        try {
            dirLock = lockChannel.tryLock();
        } catch (OverlappingFileLockException heldByThisProcess) {
            dirLock = null;
        } catch (IOException e) {
            lockChannel.close();
            throw e;
        }
        if (dirLock == null) {
            lockChannel.close();
            throw new IOException("the audit in " + directory + " is in use by another writer (another server with the same DATA_DIR?)");
        }
        return dirLock;
    }

    /**
     * Writes a record, marked recovered, for every MESSAGE and REFUSED_FRAME record of the journal
     * in {@code journalDirectory} that the audit lacks, from the highest journal position the
     * audit records less the slack ({@link JournalRebuild#slackBytes}); returns how many, once they
     * are durable. Call once after {@link #open} and the journal's own opening, and before any frame
     * is accepted (a frame accepted meanwhile could be recorded twice). {@code maxInflightBytes} is
     * MAX_INFLIGHT_BYTES: the slack grows with it.
     */
    public int recoverFromJournal(Path journalDirectory, long maxInflightBytes) throws IOException {
        return JournalRebuild.run(this, settings.directory(), journalDirectory, JournalRebuild.slackBytes(maxInflightBytes));
    }

    /**
     * As above, unless the audit was last closed cleanly, after the journal, with the journal then
     * ending at {@code journalEnd} (where it ends now): then every frame the journal holds was
     * audited before the seal, and nothing is read. A journal that grew or changed since (another
     * writer, files restored from elsewhere) ends elsewhere and is read as above.
     */
    public int recoverFromJournal(Path journalDirectory, long maxInflightBytes, long journalEnd) throws IOException {
        if (openedSealedAtJournalEnd.isPresent() && openedSealedAtJournalEnd.get() == journalEnd) {
            LOG.log(INFO, "audit: closed cleanly with the journal at position {0}, where it ends now: nothing to rebuild",
                    String.valueOf(journalEnd));
            return 0;
        }
        return recoverFromJournal(journalDirectory, maxInflightBytes);
    }

    /** The last durable record: logged at open and close, for /api/status. */
    public Head head() {
        return head;
    }

    public Stats stats() {
        lock.lock();
        try {
            return new Stats(written.get(), writes.get(), failedWrites.get(), producerWaits.get(), notRecorded.get(), queue.size());
        } finally {
            lock.unlock();
        }
    }

    public Path directory() {
        return settings.directory();
    }

    // --- Events: queue only ---------------------------------------------------------------------

    @Override
    public void frameAnswered(FrameAnswered event) {
        try {
            submit(AuditEvent.frame(event), event.payload());
        } catch (Throwable e) { // a listener must not throw into the answer path
            notRecorded(e, "a frame's outcome (MSH-10 " + safe(() -> event.controlId()) + ")");
        }
    }

    @Override
    public void delivery(Delivery event) {
        try {
            AuditEvent.delivery(event).ifPresent(e -> submit(e, null));
        } catch (Throwable e) {
            notRecorded(e, "a delivery outcome (record " + safe(() -> String.valueOf(event.recordId())) + ")");
        }
    }

    @Override
    public void operatorAction(OperatorAction event) {
        try {
            submit(AuditEvent.operator(event), null);
        } catch (Throwable e) {
            notRecorded(e, "an operator action (" + safe(() -> event.action()) + ")");
        }
    }

    @Override
    public void configurationLoaded(ConfigurationLoaded event) {
        try {
            submit(AuditEvent.configuration(event), null);
        } catch (Throwable e) {
            notRecorded(e, "a configuration load");
        }
    }

    @Override
    public void tlsReloaded(TlsReloaded event) {
        try {
            submit(AuditEvent.tls(event), null);
        } catch (Throwable e) {
            notRecorded(e, "a TLS reload");
        }
    }

    /**
     * Queues an event for the writer; {@code payload}, when not null, is hashed there. Waits while
     * the queue is full. After close, the event is logged as not recorded.
     */
    void submit(AuditEvent event, byte[] payload) {
        Entry entry = new Entry(event, payload);
        lock.lock();
        try {
            if (full(entry.payloadBytes()) && !closed) producerWaits.incrementAndGet();
            while (full(entry.payloadBytes()) && !closed) space.awaitUninterruptibly();
            if (closed) {
                notRecorded(null, describe(event) + ": the audit is closed");
                return;
            }
            queue.add(entry);
            queuedPayloadBytes += entry.payloadBytes();
            enqueuedCount++;
            // Wake the writer only when it waits for work, or when a write's worth is queued: while
            // it waits out MIN_WRITE_INTERVAL, a wake-up per event would cost a context switch each.
            if (writerIdle || queue.size() >= MAX_WRITE_EVENTS || queuedPayloadBytes >= MAX_QUEUED_PAYLOAD_BYTES / 2) work.signal();
        } finally {
            lock.unlock();
        }
    }

    private boolean full(long payloadBytes) {
        return queue.size() >= MAX_QUEUED_EVENTS
                || (queuedPayloadBytes > 0 && queuedPayloadBytes + payloadBytes > MAX_QUEUED_PAYLOAD_BYTES);
    }

    /** Waits until every event queued before this call is durable (or given up at close). */
    public void flush() {
        lock.lock();
        try {
            long ticket = enqueuedCount;
            while (settledCount < ticket) settled.awaitUninterruptibly();
        } finally {
            lock.unlock();
        }
    }

    /** As {@link #flush()}, for at most {@code timeout}; false when it was not enough (a failing disk). */
    public boolean flush(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            long ticket = enqueuedCount;
            long remaining = timeout.toNanos();
            while (settledCount < ticket && remaining > 0) remaining = settled.awaitNanos(remaining);
            return settledCount >= ticket;
        } finally {
            lock.unlock();
        }
    }

    // --- retention ------------------------------------------------------------------------------

    /**
     * Deletes the closed segments whose last record is older than the retention (the time of the
     * next segment's {@code segment_started} record, written when this one was closed), oldest
     * first. For each, a {@code segment_deleted} record (its sequence numbers and last hash) is
     * written and forced before the file goes. Returns how many were deleted. For the composition
     * root's housekeeping (once an hour is plenty).
     */
    public int deleteExpired() throws IOException {
        if (isClosed()) return 0;
        List<Retention.Expired> expired = Retention.expired(settings.directory(), clock.instant().minus(settings.retention()));
        if (expired.isEmpty()) return 0;
        for (Retention.Expired x : expired) {
            submit(AuditEvent.segmentDeleted(clock.instant(), x.ref(), "retention (" + settings.retention().toDays()
                    + " days) deletes segment " + x.file().getFileName()), null);
        }
        flush();
        if (isClosed()) return 0; // its records may have been given up: delete nothing not accounted for
        for (Retention.Expired x : expired) {
            Files.deleteIfExists(x.file());
            LOG.log(INFO, "audit: deleted segment {0} (records {1} to {2}, older than AUDIT_RETENTION)", x.file().getFileName(),
                    String.valueOf(x.ref().firstSeq()), String.valueOf(x.ref().lastSeq()));
        }
        AuditFormat.forceDirectory(settings.directory());
        return expired.size();
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    // --- liveness -------------------------------------------------------------------------------

    /**
     * Why the audit cannot record now, if so: the writer has ended, or has been on one write for
     * longer than {@code stuckAfter} (a hung disk), or its writes keep failing. Empty once closed.
     */
    public Optional<String> writerProblem(Duration stuckAfter) {
        return writerStuck(stuckAfter).or(this::writesFailing);
    }

    /**
     * The part of {@link #writerProblem} that waiting will not cure: the writer has ended (it
     * outlives every failure, so that is a bug), or it has been on one write for longer than
     * {@code stuckAfter} (a hung disk). What liveness reports; the first is also fatal.
     */
    public Optional<String> writerStuck(Duration stuckAfter) {
        if (isClosed()) return Optional.empty();
        if (writerEnded()) return Optional.of("the audit writer has ended");
        long busySince = busySinceNanos;
        if (busySince != 0 && System.nanoTime() - busySince > stuckAfter.toNanos()) {
            return Optional.of("the audit writer has been on one write for over " + stuckAfter.toSeconds() + " s (is the disk hung?)");
        }
        return Optional.empty();
    }

    /** The writer thread has ended while the audit is open. */
    public boolean writerEnded() {
        return !isClosed() && !writer.isAlive();
    }

    /** The audit's writes keep failing (a full or read-only disk): records wait in the queue, and when it is full, so do callers. */
    public Optional<String> writesFailing() {
        if (isClosed()) return Optional.empty();
        int failures = failuresInARow;
        return failures > 0 ? Optional.of("the audit's last " + failures + " write(s) failed: " + lastFailure) : Optional.empty();
    }

    // --- close ----------------------------------------------------------------------------------

    /**
     * Writes what is queued, seals the last segment ({@code audit_closed}), logs the head and
     * releases the directory. Events after this are logged as not recorded. Calling it again does nothing.
     */
    /**
     * As {@link #close()}, for a server that has closed its journal, which ends at {@code journalEnd}:
     * the seal records it, and the next start skips the rebuild when the journal still ends there.
     */
    public void close(long journalEnd) throws IOException {
        sealJournalEnd = journalEnd;
        close();
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            work.signalAll();
            space.signalAll();
            closing.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join(); // the writer writes what is queued and the seal, then ends
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        try {
            chain.close();
        } finally {
            dirLock.release();
            lockChannel.close();
            LOG.log(INFO, "audit {0}: closed, head {1}", settings.directory(), head);
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    // --- the writer -----------------------------------------------------------------------------

    /**
     * The writer's loop. Only {@link #close()} ends it, after the seal: a failed write is retried,
     * and an {@link Error} anywhere is logged and the loop goes on, because every caller whose
     * event is queued may be waiting for room.
     */
    private void writeLoop() {
        int attemptsWhileClosing = 0;
        while (true) {
            try {
                if (!takeWork()) {
                    head = chain.seal(sealJournalEnd);
                    return;
                }
                writeNext();
                attemptsWhileClosing = 0;
            } catch (Throwable e) { // an Error too: the writer must outlive it, or callers wait for room forever
                busySinceNanos = 0;
                chain.failed();
                failed(e);
                if (isClosed() && ++attemptsWhileClosing >= ATTEMPTS_WHEN_CLOSING) {
                    giveUp();
                    return;
                }
                pauseAfterFailure();
            }
        }
    }

    /** True when there is something to write: taken before, or now from the queue; false once closed and empty. */
    private long lastWriteStartedNanos; // writer thread only
    private boolean writerIdle;         // guarded by lock: the writer waits for an event (not for MIN_WRITE_INTERVAL to pass)

    /**
     * Waits for more work (or close) up to {@code nanos}; returns what is left of it. Nothing
     * interrupts the writer (close() signals); if something did, the flag is not kept, since an
     * interrupted thread's FileChannel closes under it.
     */
    private long awaitWork(long nanos) {
        try {
            return work.awaitNanos(nanos);
        } catch (InterruptedException e) {
            return 0;
        }
    }

    private boolean takeWork() {
        if (!taken.isEmpty()) return true;
        lock.lock();
        try {
            while (queue.isEmpty() && !closed) {
                writerIdle = true;
                work.awaitUninterruptibly();
            }
            writerIdle = false;
            // Group commit over time as well as over threads: nobody's answer waits for this force
            // (the journal's force came first), so writes are spaced MIN_WRITE_INTERVAL apart.
            long linger = MIN_WRITE_INTERVAL.toNanos() - (System.nanoTime() - lastWriteStartedNanos);
            while (linger > 0 && !closed && queue.size() < MAX_WRITE_EVENTS) linger = awaitWork(linger);
            lastWriteStartedNanos = System.nanoTime();
            while (!queue.isEmpty() && taken.size() < MAX_WRITE_EVENTS) {
                taken.add(queue.peek()); // add, then remove: running out of memory in between loses nothing
                queue.poll();
            }
            space.signalAll();
            return !taken.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Writes the next write's worth of taken events, forced, then counts them durable. */
    private void writeNext() throws IOException {
        busySinceNanos = System.nanoTime();
        hashPayloads();
        List<byte[]> bodies = encodeTaken();
        int events = bodies.size();
        head = chain.write(bodies);
        busySinceNanos = 0;
        taken.subList(0, events).clear();
        written.addAndGet(events);
        writes.incrementAndGet();
        if (failuresInARow > 0) LOG.log(INFO, "audit: writing again after {0} failed write(s)", String.valueOf(failuresInARow));
        failuresInARow = 0;
        settle(events);
    }

    /**
     * Replaces each taken payload by its hash and size, on this thread: callers never wait for a
     * hash. In place, and its memory accounted as released even if an Error comes midway, so that
     * nothing taken is lost and the queue's bound stays true.
     */
    private void hashPayloads() {
        long released = 0;
        try {
            for (int i = 0; i < taken.size(); i++) {
                Entry e = taken.get(i);
                if (e.payload() == null) continue;
                Sha256 sha = Sha256.hash(digest, e.payload(), 0, e.payload().length);
                taken.set(i, new Entry(e.event().withPayload(new AuditEvent.Payload(Optional.of(sha), e.payload().length)), null));
                released += e.payload().length;
            }
        } finally {
            if (released > 0) releasePayload(released);
        }
    }

    /** Bodies (chain fields still blank) of the taken events that fit one write, in order; at least one. */
    private List<byte[]> encodeTaken() {
        List<byte[]> bodies = new ArrayList<>(taken.size());
        long bytes = 0;
        for (Entry e : taken) {
            byte[] body = AuditRecord.encode(0, Sha256.ZERO, 0, e.event());
            if (!bodies.isEmpty() && bytes + AuditFormat.FRAME_BYTES + body.length > MAX_WRITE_BYTES) break;
            bodies.add(body);
            bytes += AuditFormat.FRAME_BYTES + body.length;
        }
        return bodies;
    }

    private void settle(int events) {
        lock.lock();
        try {
            settledCount += events;
            settled.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void releasePayload(long bytes) {
        lock.lock();
        try {
            queuedPayloadBytes -= bytes;
            space.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void failed(Throwable e) {
        failedWrites.incrementAndGet();
        int failures = ++failuresInARow;
        try {
            lastFailure = String.valueOf(e);
            if (failures == 1 || failures % FAILURES_PER_LOG_LINE == 0) {
                LOG.log(ERROR, "audit: a write failed ({0} in a row); its records stay queued and are written again: {1}",
                        String.valueOf(failures), e);
            }
        } catch (Throwable outOfMemory) {
            // no memory even for a log line: going on matters more
        }
    }

    private void pauseAfterFailure() {
        lock.lock();
        try {
            if (!closed) closing.awaitNanos(RETRY_PAUSE.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /** Closing on a disk that keeps failing: every record not written is logged (never silently dropped), and callers let go. */
    private void giveUp() {
        List<Entry> lost = new ArrayList<>(taken);
        taken.clear();
        lock.lock();
        try {
            lost.addAll(queue);
            queue.clear();
            queuedPayloadBytes = 0;
        } finally {
            lock.unlock();
        }
        for (Entry e : lost) notRecorded(null, describe(e.event()) + ": the audit could not be written before closing");
        settle(lost.size());
    }

    private void notRecorded(Throwable cause, String what) {
        notRecorded.incrementAndGet();
        try {
            LOG.log(ERROR, "audit: NOT RECORDED: " + what + (cause == null ? "" : " (" + cause + ")"));
        } catch (Throwable outOfMemory) {
            // counted above; nothing more can be done without memory
        }
    }

    /** A record's identifying facts, without content: for a log line about a record not written. */
    private static String describe(AuditEvent e) {
        return e.kind().externalName() + " at " + e.time() + (e.header().controlId().isEmpty() ? "" : ", MSH-10 " + e.header().controlId())
                + e.stored().recordId().map(id -> ", record " + id).orElse("")
                + (e.operator().action().isEmpty() ? "" : ", " + e.operator().who() + " " + e.operator().action());
    }

    private static String safe(java.util.function.Supplier<String> text) {
        try {
            return text.get();
        } catch (Throwable e) {
            return "?";
        }
    }

    private static void createDirectoriesDurably(Path directory) throws IOException {
        if (Files.isDirectory(directory)) return;
        Files.createDirectories(directory);
        Path parent = directory.toAbsolutePath().getParent();
        if (parent != null) AuditFormat.forceDirectory(parent);
    }
}
