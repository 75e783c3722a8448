package org.mllpserver.app;

import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.intake.DuplicateIndex;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.JournalCheckpoint;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * {@code DATA_DIR/checkpoint}: the indexes start-up would otherwise rebuild from every record of
 * the journal (the duplicate index, the open dead letters), saved with the journal position they
 * stand for, so that start-up reads only the journal after it, however much is retained.
 *
 * <p><b>Format</b> (big-endian): {@code MLLPCKP1}, a version, the journal's part
 * ({@link JournalCheckpoint}: its position and segments), the duplicate index's part, the dead
 * letters' part, then a CRC32C of everything before it. The indexes are saved after the position
 * is taken, so they may already hold effects of records after it; those records are read again
 * at start, and taking a record in twice changes nothing (see {@link Journal#checkpoint()}).
 *
 * <p><b>Durable steps, in order:</b> write {@code checkpoint.tmp}, force it, rename it over
 * {@code checkpoint}, force the directory. A crash at any moment leaves the previous checkpoint or
 * this one, whole. Written every CHECKPOINT_INTERVAL when the journal grew, and at a clean stop.
 *
 * <p><b>At start</b>: no checkpoint, a damaged one (checksum, format) or one that does not fit
 * the journal's segment files (a file restored from a backup or removed since) means reading
 * the whole journal, as before checkpoints existed, and the log says why. Thread-safe.
 */
final class Checkpoints {

    static final String FILE = "checkpoint";
    private static final byte[] MAGIC = "MLLPCKP1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int BUFFER_BYTES = 1 << 20;
    private static final System.Logger LOG = System.getLogger(Checkpoints.class.getName());

    private final Path file;
    private final DuplicateIndex duplicates;
    private final DeadLetterIndex deadLetters;
    private long lastPosition = -1; // guarded by this
    private long lastBytes;         // guarded by this: the size of the last checkpoint written

    Checkpoints(Path dataDir, DuplicateIndex duplicates, DeadLetterIndex deadLetters) {
        this.file = dataDir.resolve(FILE);
        this.duplicates = duplicates;
        this.deadLetters = deadLetters;
    }

    /**
     * Loads the indexes from the checkpoint when it is whole and fits the journal in
     * {@code journalDirectory}; returns the journal's part to open from, or empty (the indexes
     * untouched, the reason logged) when the whole journal must be read.
     */
    synchronized Optional<JournalCheckpoint> load(Path journalDirectory) {
        long started = System.nanoTime();
        try {
            if (!checksumMatches()) {
                LOG.log(WARNING, "checkpoint {0} is damaged (its checksum does not match); reading the whole journal", file);
                return Optional.empty();
            }
        } catch (NoSuchFileException e) {
            LOG.log(INFO, "no checkpoint yet; reading the whole journal");
            return Optional.empty();
        } catch (IOException e) {
            LOG.log(WARNING, "checkpoint {0} cannot be read ({1}); reading the whole journal", file, e.toString());
            return Optional.empty();
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), BUFFER_BYTES))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) throw new IOException("it does not start with MLLPCKP1");
            int version = in.readInt();
            if (version != VERSION) throw new IOException("its version " + version + " is not known");
            JournalCheckpoint journal = JournalCheckpoint.read(in);
            if (!Journal.matchesCheckpoint(journalDirectory, journal)) return Optional.empty(); // logged by the journal
            duplicates.load(in);
            deadLetters.load(in);
            lastPosition = journal.position();
            lastBytes = Files.size(file);
            LOG.log(INFO, "checkpoint at journal position {0} loaded in {1} ms ({2} duplicate key(s), {3} open dead letter(s));"
                            + " reading the journal from there", String.valueOf(journal.position()),
                    String.valueOf((System.nanoTime() - started) / 1_000_000), String.valueOf(duplicates.size()),
                    String.valueOf(deadLetters.size()));
            return Optional.of(journal);
        } catch (IOException | RuntimeException e) {
            duplicates.clear();
            deadLetters.clear();
            LOG.log(WARNING, "checkpoint {0} cannot be used ({1}); reading the whole journal", file, e.toString());
            return Optional.empty();
        }
    }

    /** Its last four bytes are the CRC32C of all before them. */
    private boolean checksumMatches() throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < MAGIC.length + 4) return false;
            CRC32C crc = new CRC32C();
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
            long at = 0;
            while (at < size - 4) {
                buffer.clear().limit((int) Math.min(BUFFER_BYTES, size - 4 - at));
                int n = channel.read(buffer, at);
                if (n < 0) return false;
                crc.update(buffer.flip());
                at += n;
            }
            ByteBuffer stored = ByteBuffer.allocate(4);
            while (stored.hasRemaining()) if (channel.read(stored, size - 4 + stored.position()) < 0) return false;
            return stored.getInt(0) == (int) crc.getValue();
        }
    }

    /**
     * Writes a checkpoint of the journal and the indexes, unless the journal has not grown since
     * the last one. Returns true when it wrote one.
     */
    synchronized boolean write(Journal journal) throws IOException {
        return write(journal, false);
    }

    /**
     * The periodic checkpoint: only once the journal has grown since the last by at least that
     * checkpoint's own size. So checkpoints never write more than the journal does (a large
     * duplicate index is not rewritten every minute for a little traffic), and start-up reads at
     * most about that much journal after one.
     */
    synchronized boolean writeIfDue(Journal journal) throws IOException {
        return write(journal, true);
    }

    private boolean write(Journal journal, boolean onlyIfDue) throws IOException {
        JournalCheckpoint position = journal.checkpoint();
        if (position.position() == lastPosition) return false;
        if (onlyIfDue && lastPosition >= 0 && position.position() - lastPosition < lastBytes) return false;
        long started = System.nanoTime();
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            BufferedOutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(channel), BUFFER_BYTES);
            CRC32C crc = new CRC32C();
            DataOutputStream out = new DataOutputStream(new CheckedOutputStream(buffered, crc));
            out.write(MAGIC);
            out.writeInt(VERSION);
            position.write(out);
            duplicates.save(out);
            deadLetters.save(out);
            out.flush();
            new DataOutputStream(buffered).writeInt((int) crc.getValue());
            buffered.flush();
            channel.force(true); // the content is on disk before the name points at it
        }
        long written = Files.size(tmp);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(file.getParent());
        LOG.log(lastPosition < 0 ? INFO : DEBUG, "checkpoint at journal position {0} written in {1} ms",
                String.valueOf(position.position()), String.valueOf((System.nanoTime() - started) / 1_000_000));
        lastPosition = position.position();
        lastBytes = written;
        return true;
    }

    private static void forceDirectory(Path directory) throws IOException {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** For tests: the checkpoint file. */
    Path file() {
        return file;
    }
}
