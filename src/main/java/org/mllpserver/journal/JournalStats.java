package org.mllpserver.journal;

import java.util.concurrent.atomic.AtomicLong;

/** What the journal has done since it was opened; exported as metrics by a later issue. */
public final class JournalStats {
    private final AtomicLong records = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong forceNanos = new AtomicLong();
    final AtomicLong failedBatches = new AtomicLong();

    void forced(int recordCount, long byteCount, long nanos) {
        records.addAndGet(recordCount);
        batches.incrementAndGet();
        bytes.addAndGet(byteCount);
        forceNanos.addAndGet(nanos);
    }

    public long records() { return records.get(); }
    public long batches() { return batches.get(); }
    public long bytes() { return bytes.get(); }
    /** Time spent in write + force, summed over batches. */
    public long writeAndForceNanos() { return forceNanos.get(); }
    public long failedBatches() { return failedBatches.get(); }
}
