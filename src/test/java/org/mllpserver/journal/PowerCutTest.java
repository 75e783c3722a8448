package org.mllpserver.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.testing.PowerCutDisk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Power cuts at random moments: after each, the disk holds what was forced plus any part of what
 * was not ({@link PowerCutDisk}). Recovery must start on every such image and find every record
 * whose append returned, byte for byte. Each cycle starts from the previous cycle's image without
 * repairing it first, so a cut can also strike recovery itself, a roll, a preallocation or a seal.
 */
class PowerCutTest {

    private static final int CYCLES = 40;
    private static final int THREADS = 4;
    private static final int APPENDS_PER_THREAD = 300;
    private static final long SEGMENT_BYTES = 32 * 1024;

    @TempDir
    Path root;

    @Test
    void everyAcknowledgedRecordSurvivesEveryPowerCut() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("PowerCutTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random master = new Random(seed);
        Set<String> attempted = ConcurrentHashMap.newKeySet();
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        Path current = Files.createDirectories(root.resolve("cycle-0"));
        int cutsDuringOpen = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            long cycleSeed = master.nextLong();
            Random random = new Random(cycleSeed);
            // One cut in eight comes within the first operations: in recovery's own repair of the last cut.
            int cutAt = random.nextInt(8) == 0 ? 1 + random.nextInt(4) : 1 + random.nextInt(300);
            PowerCutDisk disk = new PowerCutDisk(random, cutAt);
            String context = "seed " + seed + ", cycle " + cycle;
            Journal journal = null;
            try {
                journal = Journal.open(settings(current), Clock.systemUTC(), disk, RecordVisitor.NONE);
            } catch (IOException e) {
                if (!disk.isCut()) throw new AssertionError(context + ": opening failed without a power cut", e);
                cutsDuringOpen++;
            }
            if (journal != null) {
                appendUntilTheCut(journal, disk, cycle, cycleSeed, attempted, acknowledged, context);
                try {
                    journal.close();
                } catch (IOException expected) {
                    // the power is gone: the seal cannot be written
                }
            }
            Path next = root.resolve("cycle-" + (cycle + 1));
            disk.image(current, next, Set.of(Journal.LOCK_FILE));

            Path check = root.resolve("check-" + (cycle + 1));
            copy(next, check);
            List<String> recovered = new ArrayList<>();
            try (Journal reopened = Journal.open(settings(check), Clock.systemUTC(), ChannelFactory.DEFAULT,
                    (position, type, body) -> recovered.add(new String(body, StandardCharsets.UTF_8)))) {
                reopened.append(RecordType.MESSAGE, "accepts again".getBytes(StandardCharsets.UTF_8));
            } catch (JournalDamagedException e) {
                fail(context + ": recovery refused an image a power cut can leave: " + e.getMessage());
            }
            Set<String> unique = new HashSet<>();
            for (String body : recovered) {
                if (!body.equals("accepts again")) {
                    assertTrue(unique.add(body), context + ": a record twice");
                    assertTrue(attempted.contains(body), context + ": a record nobody wrote");
                }
            }
            for (String body : acknowledged) {
                assertTrue(unique.contains(body), context + ": an acknowledged record is missing: " + body.substring(0, 24));
            }
            current = next;
        }
        System.out.println("PowerCutTest: " + acknowledged.size() + " acknowledged records over " + CYCLES + " cuts ("
                + cutsDuringOpen + " during recovery), all found");
        assertTrue(acknowledged.size() > CYCLES, "the cuts came late enough to acknowledge something");
    }

    private static void appendUntilTheCut(Journal journal, PowerCutDisk disk, int cycle, long cycleSeed, Set<String> attempted,
                                          Set<String> acknowledged, String context) throws Exception {
        try (var pool = Executors.newFixedThreadPool(THREADS)) {
            List<Future<?>> appenders = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Random sizes = new Random(cycleSeed + t);
                int thread = t;
                appenders.add(pool.submit(() -> {
                    for (int i = 0; i < APPENDS_PER_THREAD; i++) {
                        String body = "cycle %03d thread %d record %04d ".formatted(cycle, thread, i)
                                + "x".repeat(sizes.nextInt(3000));
                        attempted.add(body);
                        try {
                            journal.append(RecordType.MESSAGE, body.getBytes(StandardCharsets.UTF_8));
                        } catch (IOException e) {
                            if (!disk.isCut()) throw new AssertionError(context + ": an append failed without a power cut", e);
                            return null;
                        }
                        acknowledged.add(body);
                    }
                    return null;
                }));
            }
            for (Future<?> appender : appenders) appender.get();
        }
        disk.cutNow(); // if the appends ran out before the cut came
    }

    private static Journal.Settings settings(Path directory) {
        return new Journal.Settings(directory, SEGMENT_BYTES, Duration.ofDays(7));
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path file : files.toList()) Files.copy(file, to.resolve(file.getFileName()));
        }
    }
}
