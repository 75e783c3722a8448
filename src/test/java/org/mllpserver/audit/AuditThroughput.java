package org.mllpserver.audit;

import org.mllpserver.events.Events;
import org.mllpserver.journal.ChannelFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How many audit records a second the writer sustains on this disk, a force per write: producers
 * (virtual threads, as connections are) report frames with a payload of PAYLOAD bytes as fast as
 * the queue takes them, for SECONDS; then one producer that waits for each record to be durable
 * (one record per force: the disk's force rate).
 *
 * <pre>java ... org.mllpserver.audit.AuditThroughput DIRECTORY [PRODUCERS] [SECONDS] [PAYLOAD] [SEED]</pre>
 */
public final class AuditThroughput {

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int producers = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int payloadBytes = args.length > 3 ? Integer.parseInt(args[3]) : 2048;
        long seed = args.length > 4 ? Long.parseLong(args[4]) : System.nanoTime();
        System.out.println("seed " + seed);
        Files.createDirectories(root);
        Path dir = Files.createTempDirectory(root, "audit-throughput-");
        byte[] payload = new byte[payloadBytes];
        new Random(seed).nextBytes(payload);
        try (AuditLog audit = AuditLog.open(AuditLog.Settings.in(dir), Clock.systemUTC(), ChannelFactory.DEFAULT)) {
            saturate(audit, producers, 2, payload); // warm-up
            AuditLog.Stats before = audit.stats();
            long started = System.nanoTime();
            saturate(audit, producers, seconds, payload);
            audit.flush();
            double elapsed = (System.nanoTime() - started) / 1e9;
            AuditLog.Stats after = audit.stats();
            long records = after.written() - before.written();
            long writes = after.writes() - before.writes();
            System.out.printf("%d producers, %d-byte payloads: %.0f records/s, %.0f writes (forces)/s, %.1f records a write, %d producer waits%n",
                    producers, payloadBytes, records / elapsed, writes / elapsed, records / (double) writes, after.producerWaits());
            oneAtATime(audit, seconds, payload);
        }
        long bytes = 0;
        int segments = 0;
        for (Path file : AuditFormat.segmentFiles(dir.resolve("audit"))) {
            bytes += Files.size(file);
            segments++;
        }
        long records = countRecords(dir.resolve("audit"));
        System.out.printf("on disk: %d segment(s), %d bytes, %.0f bytes a record%n", segments, bytes, bytes / (double) records);
        long verifyStart = System.nanoTime();
        Verification v = AuditReader.verify(dir.resolve("audit"));
        System.out.printf("verify: %s in %.2f s%n", v.summary(), (System.nanoTime() - verifyStart) / 1e9);
    }

    private static long countRecords(Path dir) throws java.io.IOException {
        long[] n = {0};
        AuditReader.read(dir, Optional.empty(), (r, o) -> ++n[0] > 0);
        return n[0];
    }

    private static void saturate(AuditLog audit, int producers, int seconds, byte[] payload) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            threads.add(Thread.ofVirtual().start(() -> {
                long i = 0;
                while (!stop.get()) audit.frameAnswered(frame("P" + i++, payload));
            }));
        }
        Thread.sleep(seconds * 1000L); // the measurement's duration, not synchronisation
        stop.set(true);
        for (Thread t : threads) t.join();
    }

    private static void oneAtATime(AuditLog audit, int seconds, byte[] payload) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long started = System.nanoTime();
        long count = 0;
        while (System.nanoTime() < deadline) {
            audit.frameAnswered(frame("S" + count, payload));
            audit.flush();
            count++;
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        System.out.printf("one record per force (a producer that waits for each): %.0f records/s, %.3f ms each%n",
                count / elapsed, 1000 * elapsed / count);
    }

    private static Events.FrameAnswered frame(String controlId, byte[] payload) {
        return new Events.FrameAnswered(Instant.now(), "10.20.30.40:51234", "CN=lab-interface.example.org", Events.FrameOutcome.ACCEPTED,
                "AA", "LABSYS", "MAIN-LAB", "ORU^R01^ORU_R01", controlId, Optional.of(UUID.randomUUID()), 123_456_789L, payload, List.of());
    }
}
