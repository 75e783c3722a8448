package org.mllpserver.audit;

import org.mllpserver.events.Events;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.RecordVisitor;
import org.mllpserver.journal.RefusedFrame;
import org.mllpserver.journal.StoredMessage;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;

/**
 * The child {@link AuditCrashTest} kills: opens the journal and the audit in DATA_DIR as the
 * server does (the audit rebuilt from the journal first), then SENDERS threads store frames and
 * report them, printing {@code AA <id>} (or {@code AE <id>} for a refused frame) once the frame is
 * durable in the journal and reported: the moment the server sends its answer. Runs until killed;
 * with {@code recover-only}, rebuilds and exits cleanly.
 *
 * <pre>java ... org.mllpserver.audit.AuditCrashChild DATA_DIR SEED [recover-only]</pre>
 */
public final class AuditCrashChild {

    private static final int SENDERS = 8;

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        Journal journal = Journal.open(new Journal.Settings(dataDir.resolve("journal"), 1 << 20, Duration.ofDays(7)), Clock.systemUTC(),
                ChannelFactory.DEFAULT, RecordVisitor.NONE);
        AuditLog audit = AuditLog.open(new AuditLog.Settings(dataDir.resolve("audit"), 256 << 10, AuditLog.Settings.DEFAULT_RETENTION),
                Clock.systemUTC(), ChannelFactory.DEFAULT);
        int rebuilt = audit.recoverFromJournal(journal.directory(), 64L << 20);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.US_ASCII);
        out.println("READY " + rebuilt);
        if (args.length > 2) {
            audit.close();
            journal.close();
            return;
        }
        for (int s = 0; s < SENDERS; s++) {
            Random random = new Random(seed + s);
            Thread.ofVirtual().start(() -> send(journal, audit, random, out));
        }
        Thread.currentThread().join(); // until killed
    }

    private static void send(Journal journal, AuditLog audit, Random random, PrintStream out) {
        try {
            while (true) {
                UUID id = new UUID(random.nextLong(), random.nextLong());
                Instant at = Instant.now();
                String controlId = "K" + Long.toHexString(random.nextLong());
                byte[] raw = ("MSH|^~\\&|LAB|LAB|||x||ORU^R01|" + controlId + "|P|2.5\r").getBytes(StandardCharsets.US_ASCII);
                boolean refused = random.nextInt(5) == 0;
                long position = refused
                        ? journal.append(RecordType.REFUSED_FRAME, new RefusedFrame(id, at, "127.0.0.1:1", "", controlId, "bad", raw).encode())
                        : journal.append(RecordType.MESSAGE, new StoredMessage(id, at, "127.0.0.1:1", "", "LAB", "LAB", "ORU^R01", controlId,
                                "US-ASCII", List.of(), raw).encode());
                audit.frameAnswered(new Events.FrameAnswered(at, "127.0.0.1:1", "", refused ? Events.FrameOutcome.REFUSED
                        : Events.FrameOutcome.ACCEPTED, refused ? "AE" : "AA", "LAB", "LAB", "ORU^R01", controlId, Optional.of(id),
                        position, raw, List.of()));
                out.println((refused ? "AE " : "AA ") + id);
            }
        } catch (Exception e) {
            out.println("FAILED " + e);
        }
    }
}
