package org.mllpserver.testing;

import org.mllpserver.journal.ChannelFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * A {@link ChannelFactory} over the real file system whose channels fail on command: the faults
 * a real disk cannot be made to produce at a chosen moment (an I/O error on write or force, a
 * write cut short, a truncate that fails, a file that cannot be created).
 */
public final class FaultyDisk implements ChannelFactory {

    /** HANG: a force blocks until {@link #heal()}, as on a disk that stopped answering. */
    public enum Fault { NONE, WRITE, PARTIAL_WRITE, FORCE, TRUNCATE_AND_WRITE, OPEN, ERROR, HANG }

    private volatile Fault fault = Fault.NONE;

    public void fail(Fault next) {
        this.fault = next;
    }

    public void heal() {
        synchronized (this) {
            this.fault = Fault.NONE;
            notifyAll();
        }
    }

    private synchronized void hangWhileAsked() throws IOException {
        while (fault == Fault.HANG) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while the disk hung");
            }
        }
    }

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        if (fault == Fault.OPEN) throw new IOException("injected: cannot open " + path);
        return new Channel(FileChannel.open(path, options));
    }

    private final class Channel extends ForwardingFileChannel {

        Channel(FileChannel real) {
            super(real);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            switch (fault) {
                case ERROR -> throw new InternalError("injected: an Error, not an IOException");
                case WRITE, TRUNCATE_AND_WRITE -> throw new IOException("injected: No space left on device");
                case PARTIAL_WRITE -> {
                    ByteBuffer half = src.slice(src.position(), Math.max(1, src.remaining() / 2));
                    real.write(half, position);
                    throw new IOException("injected: I/O error after a partial write");
                }
                default -> {
                    return real.write(src, position);
                }
            }
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (fault == Fault.FORCE) throw new IOException("injected: fsync failed (EIO)");
            if (fault == Fault.HANG) hangWhileAsked();
            real.force(metaData);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            if (fault == Fault.TRUNCATE_AND_WRITE) throw new IOException("injected: truncate failed");
            real.truncate(size);
            return this;
        }


    }
}
