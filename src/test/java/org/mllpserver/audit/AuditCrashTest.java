package org.mllpserver.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The completeness promise across SIGKILL: a child process stores frames in a real journal and
 * reports them to the audit, answering each once reported; it is killed at seeded moments, several
 * times; after the restarts every frame it answered has exactly one audit record, and the chain
 * verifies.
 */
class AuditCrashTest {

    private static final int KILLS = 5;

    @TempDir
    Path dataDir;

    @Test
    void everyAnsweredFrameHasItsAuditRecordAfterSigkills() throws Exception {
        long seed = System.nanoTime();
        System.out.println("AuditCrashTest seed " + seed);
        Random random = new Random(seed);
        Set<UUID> answered = new HashSet<>();
        int rebuilt = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            Process child = start(random.nextLong(), false);
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
                rebuilt += ready(lines);
                int killAfter = 200 + random.nextInt(3000);
                for (int n = 0; n < killAfter; n++) answered.add(answer(lines.readLine(), seed));
                sigkill(child); // with senders mid-append and the audit mid-write
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    if (line.startsWith("AA ") || line.startsWith("AE ")) answered.add(answer(line, seed)); // printed before the kill landed
                }
            }
        }
        Process last = start(random.nextLong(), true);
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(last.getInputStream(), StandardCharsets.US_ASCII))) {
            rebuilt += ready(lines);
            assertTrue(last.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, last.exitValue());
        }

        Map<UUID, Integer> records = new HashMap<>();
        for (AuditRecord r : AuditFixtures.all(dataDir.resolve("audit"))) {
            if (r.kind().leavesJournalRecord()) records.merge(r.event().stored().recordId().orElseThrow(), 1, Integer::sum);
        }
        List<UUID> missing = new ArrayList<>();
        for (UUID id : answered) if (!records.containsKey(id)) missing.add(id);
        assertEquals(List.of(), missing, "every answered frame is audited (seed " + seed + ")");
        assertTrue(records.values().stream().allMatch(n -> n == 1), "each exactly once (seed " + seed + ")");
        assertTrue(rebuilt > 0, "the kills did catch frames answered before their audit record was forced (seed " + seed + ")");
        Verification result = AuditReader.verify(dataDir.resolve("audit"));
        assertInstanceOf(Verification.Intact.class, result, result.summary() + " (seed " + seed + ")");
        System.out.println("AuditCrashTest: " + answered.size() + " frames answered over " + KILLS + " kills, " + rebuilt
                + " audit records rebuilt from the journal; " + ((Verification.Intact) result).notes());
    }

    private Process start(long seed, boolean recoverOnly) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                AuditCrashChild.class.getName(), dataDir.toString(), Long.toString(seed)));
        if (recoverOnly) command.add("recover-only");
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /**
     * SIGKILL by pid, not {@link Process#destroyForcibly()}, which closes our end of its output:
     * the answers it printed just before dying, the likeliest to lack their record, are read too.
     */
    private static void sigkill(Process child) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-KILL", Long.toString(child.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor());
    }

    private static int ready(BufferedReader lines) throws IOException {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            if (line.startsWith("READY ")) return Integer.parseInt(line.substring(6));
        }
        throw new AssertionError("the child ended before it was ready");
    }

    private static UUID answer(String line, long seed) {
        if (line == null || !(line.startsWith("AA ") || line.startsWith("AE "))) throw new AssertionError("child said '" + line + "' (seed " + seed + ")");
        return UUID.fromString(line.substring(3));
    }
}
