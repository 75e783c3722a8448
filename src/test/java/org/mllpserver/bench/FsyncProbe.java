package org.mllpserver.bench;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The disk's own fsync latency, measured the way the journal uses it: append 1 KiB to a file,
 * then {@code force(false)} (fdatasync), one writer, N times.
 *
 * <pre>java ... org.mllpserver.bench.FsyncProbe DIRECTORY [COUNT]</pre>
 */
public final class FsyncProbe {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 3000;
        Files.createDirectories(dir);
        Path file = Files.createTempFile(dir, "fsync-probe-", ".bin");
        long[] nanos = new long[count];
        ByteBuffer kilobyte = ByteBuffer.allocateDirect(1024);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long position = 0;
            for (int i = 0; i < count; i++) {
                kilobyte.clear();
                long start = System.nanoTime();
                while (kilobyte.hasRemaining()) position += channel.write(kilobyte, position);
                channel.force(false);
                nanos[i] = System.nanoTime() - start;
            }
        } finally {
            Files.deleteIfExists(file);
        }
        long[] measured = Arrays.copyOfRange(nanos, count / 10, count); // the first tenth warms up
        Arrays.sort(measured);
        System.out.printf("fsync (1 KiB append + fdatasync, one writer): n=%d p50=%.3fms p99=%.3fms p999=%.3fms forces/s=%.0f%n",
                measured.length, pct(measured, 50), pct(measured, 99), pct(measured, 99.9), 1e9 / (Arrays.stream(measured).sum() / (double) measured.length));
    }

    private static double pct(long[] sorted, double p) {
        int index = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
        return sorted[index] / 1e6;
    }
}
