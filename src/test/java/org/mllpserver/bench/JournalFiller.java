package org.mllpserver.bench;

import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RecordVisitor;
import org.mllpserver.journal.StoredMessage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Fills a journal with N accepted messages (an ADT^A08 of about 250 bytes each, unique control
 * ids, received now, addressed to no connector), written through the journal itself in groups,
 * as the server would have written them: for measuring start-up over a large retained journal.
 *
 * <pre>java ... org.mllpserver.bench.JournalFiller DATA_DIR/journal 5000000</pre>
 */
public final class JournalFiller {

    public static void main(String[] args) throws Exception {
        Path directory = Path.of(args[0]);
        long n = Long.parseLong(args[1]);
        int group = 2_000;
        long started = System.nanoTime();
        try (Journal journal = Journal.open(new Journal.Settings(directory, 64L << 20, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, RecordVisitor.NONE)) {
            for (long from = 0; from < n; from += group) {
                List<byte[]> bodies = new ArrayList<>(group);
                for (long i = from; i < Math.min(n, from + group); i++) {
                    String id = "FILL-" + i;
                    byte[] raw = ("MSH|^~\\&|ADT|HOSP|EHR|HOSP|20261206120000||ADT^A08^ADT_A01|" + id + "|P|2.3\r"
                            + "EVN|A08|20261206120000\rPID|1||" + i + "^^^HOSP^MR||Doe^Jane||19800101|F\rPV1|1|I|W1^101^1\r")
                            .getBytes(StandardCharsets.ISO_8859_1);
                    bodies.add(new StoredMessage(UUID.randomUUID(), Instant.now(), "/10.0.0.7:51234", "", "ADT", "HOSP", "ADT^A08^ADT_A01",
                            id, "ISO-8859-1", List.of(), raw).encode());
                }
                journal.appendAll(RecordType.MESSAGE, bodies, (i, position) -> { });
            }
            System.out.printf("%d messages written in %.1f s; the journal ends at position %d%n", n,
                    (System.nanoTime() - started) / 1e9, journal.end());
        }
    }
}
