package org.mllpserver.audit;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What {@link AuditReader#verify} found: the chain whole, or the first place where it breaks. */
public sealed interface Verification {

    /** One line for the operator: "N records, head H", or where the chain breaks. */
    String summary();

    /**
     * Every record present is whole and chained to the one before it, from {@code firstSeq} (0, or
     * the first record after segments retention deleted) to the head.
     *
     * @param notes what the operator should know that is not a break: segments deleted by retention,
     *              torn tails repaired at start (from the {@code tail_repaired} records), an
     *              incomplete write at the very end now
     */
    record Intact(long records, long firstSeq, Optional<AuditLog.Head> head, List<String> notes) implements Verification {
        @Override
        public String summary() {
            return records + " records, head " + head.map(h -> h.hash().hex()).orElse("none");
        }
    }

    /**
     * The chain breaks at record {@code seq} of {@code file} (or where that record should be).
     *
     * @param recordsBefore whole, chained records read before the break
     */
    record Broken(Path file, long seq, String problem, long recordsBefore) implements Verification {
        @Override
        public String summary() {
            return "chain broken in " + file.getFileName() + " at sequence number " + seq + ": " + problem;
        }
    }
}
