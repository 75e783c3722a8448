package org.mllpserver.bench;

import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.intake.DuplicateIndex;
import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Heap per entry of the indexes that grow with traffic, measured as the server would hold them:
 * N open dead letters taken in through the start-up visitor (as from the journal; their messages
 * are not kept) and the duplicate index at its cap. Heap in use after a full GC, before and after.
 *
 * <pre>java ... org.mllpserver.bench.IndexMemory [N]</pre>
 */
public final class IndexMemory {

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        byte[] message = ("MSH|^~\\&|LAB|HOSP|EHR|HOSP|20261206120000||ORU^R01^ORU_R01|CTRL-0000000|P|2.5.1\r"
                + "PID|1||123456^^^HOSP^MR||Doe^Jane\r" + "OBX|1|NM|GLU^Glucose||5.4|mmol/L|3.9-6.1|N|||F\r".repeat(20))
                .getBytes(StandardCharsets.ISO_8859_1);

        long before = usedAfterGc();
        DeadLetterIndex index = new DeadLetterIndex();
        var visitor = index.visitor();
        for (int i = 0; i < n; i++) {
            StoredMessage m = new StoredMessage(UUID.randomUUID(), Instant.now(), "/10.0.0.7:51234", "", "LAB", "HOSP", "ORU^R01^ORU_R01",
                    String.format("CTRL-%07d", i), "ISO-8859-1", List.of("ehr"), message);
            DeadLetter d = new DeadLetter(UUID.randomUUID(), Instant.now(), "ehr", 1, "HTTP 401 from http://ehr.example:8080/hl7",
                    1_000L * i, m);
            visitor.visit(100L + 2_000L * i, RecordType.DEAD_LETTER, d.encode());
        }
        long after = usedAfterGc();
        System.out.printf("open dead letters: %d held in %d bytes of heap: %d bytes each (a message of %d bytes each stays in the journal)%n",
                index.size(), after - before, (after - before) / index.size(), message.length);

        long cap = Math.max(64, n);
        before = usedAfterGc();
        DuplicateIndex duplicates = new DuplicateIndex(Duration.ofHours(24), Clock.systemUTC(), cap);
        for (long i = 0; i < 3 * cap; i++) {
            ((DuplicateIndex.Fresh) duplicates.claim(DuplicateIndex.Key.of("LAB", "HOSP", "K" + i))).accepted();
        }
        after = usedAfterGc();
        System.out.printf("duplicate index at its cap of %d after %d unique control ids: %d keys in %d bytes of heap: %d bytes each%n",
                cap, 3 * cap, duplicates.size(), after - before, (after - before) / duplicates.size());
        if (index.size() < 0 || duplicates.size() < 0) System.out.println("(kept alive)");
    }

    private static long usedAfterGc() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
