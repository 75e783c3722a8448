package org.mllpserver.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.testing.PowerCutDisk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Power cuts at seeded moments, sector by sector ({@link PowerCutDisk}), one after another on the
 * same audit: every image a cut leaves opens (a torn last write is repaired, never refused as
 * damage), verifies, and holds every record whose write was forced before the cut, once.
 */
class AuditPowerCutTest {

    private static final int CYCLES = 30;
    /** Long enough for the writer to fail a write after the cut; short enough not to slow the test. */
    private static final Duration FLUSH_WAIT = Duration.ofMillis(20);

    @TempDir
    Path root;

    @Test
    void everyForcedRecordSurvivesEveryPowerCut() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("AuditPowerCutTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random master = new Random(seed);
        Set<String> durable = new HashSet<>();
        Path current = Files.createDirectories(root.resolve("cycle-0"));
        int repaired = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Random random = new Random(master.nextLong());
            int cutAt = random.nextInt(8) == 0 ? 1 + random.nextInt(4) : 1 + random.nextInt(200);
            PowerCutDisk disk = new PowerCutDisk(random, cutAt);
            String context = "seed " + seed + ", cycle " + cycle;
            AuditLog audit = null;
            try {
                audit = AuditLog.open(settings(current), Clock.systemUTC(), disk);
            } catch (IOException e) {
                if (!disk.isCut()) throw new AssertionError(context + ": opening failed without a power cut", e);
            }
            if (audit != null) {
                writeUntilTheCut(audit, disk, random, cycle, durable);
                audit.close(); // the power is gone: the writer gives its last records up, logged
            }
            Path next = root.resolve("cycle-" + (cycle + 1));
            disk.image(current, next, Set.of(AuditFormat.LOCK_FILE));
            repaired += check(next, root.resolve("check-" + (cycle + 1)), durable, context);
            current = next;
        }
        System.out.println("AuditPowerCutTest: " + durable.size() + " forced records over " + CYCLES + " cuts, all found; "
                + repaired + " torn tail(s) repaired");
        assertTrue(durable.size() > CYCLES, "the cuts came late enough to force something");
    }

    private static void writeUntilTheCut(AuditLog audit, PowerCutDisk disk, Random random, int cycle, Set<String> durable)
            throws InterruptedException {
        List<String> pending = new ArrayList<>();
        for (int n = 0; !disk.isCut() && n < 10_000; ) {
            int events = 1 + random.nextInt(20);
            for (int i = 0; i < events; i++, n++) {
                String controlId = "c" + cycle + "-" + n;
                audit.frameAnswered(AuditFixtures.accepted(Instant.now(), controlId, UUID.randomUUID(), n, new byte[random.nextInt(64)]));
                pending.add(controlId);
            }
            while (!audit.flush(FLUSH_WAIT)) if (disk.isCut()) return; // not forced: may or may not survive
            durable.addAll(pending);
            pending.clear();
        }
        disk.cutNow();
    }

    /** Opens a copy of the image as the next start would, and checks it; returns 1 when that start repaired a torn tail. */
    private static int check(Path image, Path copy, Set<String> durable, String context) throws IOException {
        AuditFixtures.copy(image, copy);
        long repairsBefore = repairs(copy);
        try (AuditLog reopened = AuditLog.open(settings(copy), Clock.systemUTC(), ChannelFactory.DEFAULT)) {
            reopened.flush();
        } catch (AuditDamagedException e) {
            fail(context + ": a power cut's image refused as damage: " + e.getMessage());
        }
        Verification result = AuditReader.verify(copy);
        Verification.Intact intact = assertInstanceOf(Verification.Intact.class, result, context + ": " + result.summary());
        Set<String> found = new HashSet<>();
        for (AuditRecord r : AuditFixtures.all(copy)) {
            if (r.kind() == AuditKind.ACCEPTED) assertTrue(found.add(r.event().header().controlId()), context + ": a record twice");
        }
        for (String controlId : durable) assertTrue(found.contains(controlId), context + ": a forced record is missing: " + controlId);
        assertTrue(intact.notes().stream().filter(n -> n.startsWith("torn tail repaired")).count() == repairs(copy), context);
        return (int) (repairs(copy) - repairsBefore);
    }

    private static long repairs(Path directory) throws IOException {
        return AuditFixtures.all(directory).stream().filter(r -> r.kind() == AuditKind.TAIL_REPAIRED).count();
    }

    private static AuditLog.Settings settings(Path directory) {
        return new AuditLog.Settings(directory, AuditLog.Settings.MIN_SEGMENT_BYTES, AuditLog.Settings.DEFAULT_RETENTION);
    }
}
