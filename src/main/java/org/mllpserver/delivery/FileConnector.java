package org.mllpserver.delivery;

import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Delivers each record as one file in the configured directory, {@code <record id>.hl7}, holding
 * the message's bytes exactly as stored.
 *
 * <p><b>Durable steps, in order.</b> (1) write {@code .<record id>.tmp} and force it; (2) rename
 * it to {@code <record id>.hl7} (an atomic rename: a reader sees no file or the whole file, never
 * part of one); (3) force the directory, so the rename itself survives a power cut; only then is
 * the record delivered and the dispatcher advances its cursor. A crash before (3) leaves at most
 * a temp file or a rename that may be undone; the record is delivered again after the restart,
 * under the same name. A repeat delivery of a record replaces its file with the same bytes, so
 * a delivery is at least once and a reader never sees two files for one record.
 *
 * <p><b>Temp files</b> start with {@code .} and end with {@code .tmp}; readers take only
 * {@code *.hl7}. Leftovers from a crash are removed when the connector is built, before it writes
 * anything: the directory belongs to this connector, and no other connector or server may write
 * into it. New files get the process's umask: they hold patient data, so keep the directory
 * private to the server and its reader.
 *
 * <p><b>Timeouts.</b> None of its own: a local file system answers or fails. A hung network file
 * system would hold the dispatcher as long as the kernel does.
 *
 * <p><b>Outcomes</b> (decided in {@link #classify}): a written file is delivered; every failure
 * is retryable, because each is a state of the disk an operator can fix while the records wait
 * in the journal, and none is a property of the record:
 * <table>
 * <tr><th>failure</th><th>outcome</th></tr>
 * <tr><td>the directory does not exist (removed, a mount gone)</td><td>retryable; not re-created</td></tr>
 * <tr><td>the directory is not writable</td><td>retryable</td></tr>
 * <tr><td>disk full, read-only file system, I/O error</td><td>retryable</td></tr>
 * </table>
 *
 * <p><b>Threading.</b> One dispatcher thread calls {@link #deliver} at a time.
 */
public final class FileConnector implements Connector {

    private static final System.Logger LOG = System.getLogger(FileConnector.class.getName());
    static final String SUFFIX = ".hl7";
    static final String TEMP_GLOB = ".*.tmp";

    private final String name;
    private final Path directory;

    /**
     * Creates the directory if it is missing and removes temp files a crash left in it.
     *
     * @throws IOException the directory cannot be created (the message names it and why)
     */
    public FileConnector(String name, ConnectorSettings.File settings) throws IOException {
        this.name = name;
        this.directory = settings.directory();
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new IOException("connector " + name + ": cannot create directory " + directory + ": " + e, e);
        }
        removeLeftovers();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome deliver(Delivery delivery) throws InterruptedException {
        try {
            write(delivery.message());
            return Outcome.DELIVERED;
        } catch (ClosedByInterruptException e) { // the server is stopping: the record is delivered again after the restart
            Thread.interrupted();
            throw new InterruptedException("connector " + name + ": interrupted while writing");
        } catch (IOException e) {
            return classify(e);
        }
    }

    /** The one place a failed write becomes an {@link Outcome}. */
    Outcome classify(IOException e) {
        return switch (e) {
            // Removed, or a mount gone: an operator restores it. Not re-created here: under a missing mount point
            // the files would fill the disk beneath it and vanish from the reader's view.
            case NoSuchFileException x -> new Outcome.Retryable("directory " + directory + " does not exist (" + describe(e) + ")");
            // Permissions or ownership changed: an operator fixes them.
            case AccessDeniedException x -> new Outcome.Retryable("directory " + directory + " is not writable (" + describe(e) + ")");
            // Disk full, a read-only remount, an I/O error: the disk's state, not the record's; the message names the errno.
            default -> new Outcome.Retryable("cannot write in " + directory + " (" + describe(e) + ")");
        };
    }

    private void write(StoredMessage message) throws IOException {
        Path temp = directory.resolve("." + message.id() + ".tmp");
        Path target = directory.resolve(message.id() + SUFFIX);
        boolean renamed = false;
        try {
            writeForced(temp, message.raw());                       // (1) the bytes on disk, under a name no reader takes
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE); // (2) rename(2): replaces a repeat's file in one step
            renamed = true;
            forceDirectory();                                       // (3) the rename survives a power cut
        } finally {
            if (!renamed && Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) discard(temp);
        }
    }

    private static void writeForced(Path file, byte[] bytes) throws IOException {
        // NOFOLLOW_LINKS: the name is predictable; never write through a link planted in its place.
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) out.write(buffer); // a file channel writes at least one byte per call or throws
            out.force(true);
        }
    }

    private void forceDirectory() throws IOException {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** Removes a temp file after a failed step; one that cannot be removed now is removed at the next start. */
    private void discard(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.log(WARNING, "connector " + name + ": could not remove " + temp + ": " + e);
        }
    }

    /**
     * At construction only: nothing of this connector is being written yet, so every temp file is
     * a crash's leftover (its record was not delivered and will be again). A failure here is
     * logged, not fatal: a leftover is clutter, not a wrong file.
     */
    private void removeLeftovers() {
        int removed = 0;
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(directory, TEMP_GLOB)) {
            for (Path leftover : leftovers) {
                if (Files.deleteIfExists(leftover)) removed++;
            }
        } catch (IOException e) {
            LOG.log(WARNING, "connector " + name + ": could not remove leftover temp files in " + directory + ": " + e);
        }
        if (removed > 0) LOG.log(INFO, "connector " + name + ": removed " + removed + " leftover temp file(s) in " + directory);
    }

    private static String describe(IOException e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    @Override
    public void close() {
        // Nothing held between deliveries.
    }
}
