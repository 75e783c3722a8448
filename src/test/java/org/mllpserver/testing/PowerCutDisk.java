package org.mllpserver.testing;

import org.mllpserver.journal.ChannelFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A {@link ChannelFactory} over the real file system that also keeps, for every file it opened,
 * the image a disk would hold after a power cut: what was forced is there; what was written or
 * truncated since the file's last force is there in any part or not at all, 512-byte sector by
 * sector, as a disk that writes back pages out of order leaves it. At the operation numbered
 * {@code cutAt} the power goes: that operation and every later one fail with an IOException, and
 * {@link #image} writes the disk's contents as they would be found on restart.
 *
 * <p>Directory entries are not modelled beyond this: a file created through this factory is in
 * the image (with what of its contents survived), and one deleted after the cut may be too.
 */
public final class PowerCutDisk implements ChannelFactory {

    private static final int SECTOR = 512;

    private final Random random;
    private final long cutAt;
    private final Map<Path, FileState> files = new LinkedHashMap<>();
    private long operations;
    private boolean cut;

    /** @param random decides which unforced sectors survive; {@code cutAt} counts opens for writing, writes, forces and truncates */
    public PowerCutDisk(Random random, long cutAt) {
        this.random = random;
        this.cutAt = cutAt;
    }

    /** Whether the power has gone. */
    public synchronized boolean isCut() {
        return cut;
    }

    /** Cuts the power now if it has not gone yet. */
    public synchronized void cutNow() {
        cut = true;
    }

    /**
     * Writes what the disk would hold after the cut into {@code target}: the files of
     * {@code source} this factory never opened as they are, the others as their durable image
     * with a random part of their unforced writes.
     */
    public synchronized void image(Path source, Path target, Set<String> skip) throws IOException {
        cut = true;
        Files.createDirectories(target);
        try (var list = Files.list(source)) {
            for (Path file : list.toList()) {
                String name = file.getFileName().toString();
                if (skip.contains(name) || files.containsKey(file.toAbsolutePath())) continue;
                Files.copy(file, target.resolve(name));
            }
        }
        for (Map.Entry<Path, FileState> entry : files.entrySet()) {
            Path file = entry.getKey();
            if (!file.getParent().equals(source.toAbsolutePath())) continue;
            if (!Files.exists(file) && random.nextBoolean()) continue; // deleted, and the deletion reached the disk
            Files.write(target.resolve(file.getFileName()), entry.getValue().afterCut(random));
        }
    }

    @Override
    public synchronized FileChannel open(Path path, OpenOption... options) throws IOException {
        if (Arrays.asList(options).contains(StandardOpenOption.WRITE)) operation(); // reading changes nothing on disk
        else if (cut) throw new IOException("power cut (simulated)");
        Path key = path.toAbsolutePath();
        FileChannel real = FileChannel.open(path, options);
        if (!files.containsKey(key)) {
            boolean emptied = Arrays.asList(options).contains(StandardOpenOption.TRUNCATE_EXISTING);
            files.put(key, new FileState(emptied ? new byte[0] : Files.readAllBytes(path)));
        }
        return new Channel(real, files.get(key));
    }

    /** Counts an operation; at {@code cutAt} and after, fails it. Called with the monitor held. */
    private void operation() throws IOException {
        if (cut || ++operations >= cutAt) {
            cut = true;
            throw new IOException("power cut (simulated)");
        }
    }

    /** One file: its durable bytes and what happened to it since its last force. */
    private static final class FileState {
        byte[] durable;
        final List<Object> unforced = new ArrayList<>(); // Write or Long (a truncate to that size)

        FileState(byte[] durable) {
            this.durable = durable;
        }

        record Write(long position, byte[] bytes) {}

        void force() {
            for (Object op : unforced) durable = apply(durable, op, null);
            unforced.clear();
        }

        byte[] afterCut(Random random) {
            byte[] image = durable;
            for (Object op : unforced) {
                if (op instanceof Long && random.nextBoolean()) continue; // the size change did not reach the disk
                image = apply(image, op, random);
            }
            return image;
        }

        /** Applies one operation; with {@code random}, only a random subset of a write's sectors. */
        private static byte[] apply(byte[] image, Object op, Random random) {
            if (op instanceof Long size) return Arrays.copyOf(image, (int) (long) size);
            Write w = (Write) op;
            long end = w.position() + w.bytes().length;
            long from = w.position();
            byte[] out = image;
            while (from < end) {
                long sectorEnd = Math.min(end, (from / SECTOR + 1) * SECTOR);
                if (random == null || random.nextBoolean()) {
                    if (out.length < sectorEnd) out = Arrays.copyOf(out, (int) sectorEnd);
                    System.arraycopy(w.bytes(), (int) (from - w.position()), out, (int) from, (int) (sectorEnd - from));
                }
                from = sectorEnd;
            }
            return out;
        }
    }

    private final class Channel extends ForwardingFileChannel {
        private final FileState state;

        Channel(FileChannel real, FileState state) {
            super(real);
            this.state = state;
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            synchronized (PowerCutDisk.this) {
                operation();
                byte[] bytes = new byte[src.remaining()];
                src.duplicate().get(bytes);
                int written = real.write(src, position);
                state.unforced.add(new FileState.Write(position, Arrays.copyOf(bytes, written)));
                return written;
            }
        }

        @Override
        public void force(boolean metaData) throws IOException {
            synchronized (PowerCutDisk.this) {
                operation();
                real.force(metaData);
                state.force();
            }
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            synchronized (PowerCutDisk.this) {
                operation();
                real.truncate(size);
                state.unforced.add(size);
                return this;
            }
        }

        // These would move bytes the image does not see.
        @Override public long transferTo(long position, long count, WritableByteChannel target) { throw new UnsupportedOperationException(); }
        @Override public long transferFrom(ReadableByteChannel src, long position, long count) { throw new UnsupportedOperationException(); }
        @Override public MappedByteBuffer map(MapMode mode, long position, long size) { throw new UnsupportedOperationException(); }
    }
}
