package org.mllpserver.audit;

import org.mllpserver.events.Events;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * What rebuilding from the journal costs at start when nothing is missing (the usual start): an
 * audit that records every message of a journal (fill one with bench.JournalFiller first), then
 * {@link AuditLog#recoverFromJournal} timed, which reads the newest audit segments and the last
 * slack of the journal.
 *
 * <pre>java ... org.mllpserver.audit.AuditRebuildTiming DATA_DIR [MAX_INFLIGHT_BYTES]</pre>
 */
public final class AuditRebuildTiming {

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        long inflight = args.length > 1 ? Long.parseLong(args[1]) : 64L << 20;
        Path journal = dataDir.resolve("journal");
        try (AuditLog audit = AuditLog.open(AuditLog.Settings.in(dataDir), Clock.systemUTC(), ChannelFactory.DEFAULT)) {
            long[] n = {0};
            JournalReader.read(journal, 0, entry -> {
                if (entry.type() != RecordType.MESSAGE) return;
                StoredMessage m = StoredMessage.decode(entry.body());
                audit.frameAnswered(new Events.FrameAnswered(m.receivedAt(), m.peer(), m.tlsIdentity(), Events.FrameOutcome.ACCEPTED, "AA",
                        m.sendingApplication(), m.sendingFacility(), m.messageType(), m.controlId(), Optional.of(m.id()), entry.position(),
                        m.raw(), List.of()));
                n[0]++;
            });
            audit.flush();
            System.out.printf("audited %d messages of the journal%n", n[0]);
        }
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();
        try (AuditLog audit = AuditLog.open(AuditLog.Settings.in(dataDir), Clock.systemUTC(), ChannelFactory.DEFAULT)) {
            long started = System.nanoTime();
            int rebuilt = audit.recoverFromJournal(journal, inflight);
            System.out.printf("recoverFromJournal: %d rebuilt, slack %d MiB, %.2f s, heap grew by about %d MiB%n", rebuilt,
                    JournalRebuild.slackBytes(inflight) >> 20, (System.nanoTime() - started) / 1e9,
                    (rt.totalMemory() - rt.freeMemory() - heapBefore) >> 20);
        }
    }
}
