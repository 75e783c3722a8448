package org.mllpserver.delivery;

import java.util.ArrayList;
import java.util.List;

/**
 * A downstream system. One dispatcher thread calls a connector at a time, in journal order.
 *
 * <p>Contract: {@link #deliver} never throws for anything the downstream or the network does: it
 * returns {@link Outcome.Retryable} or {@link Outcome.Undeliverable} with a reason that names no
 * patient data and no secret (no message content, no password). It returns within its own
 * timeouts. It only throws {@link InterruptedException} (the server is stopping).
 */
public interface Connector extends AutoCloseable {

    /** The connector's configured name. */
    String name();

    /** Delivers one record. */
    Outcome deliver(Delivery delivery) throws InterruptedException;

    /**
     * Delivers several records, in order, when a backlog exists (PostgreSQL batches its inserts).
     * Returns the outcomes of a prefix of {@code batch}, at least one: everything before the last
     * returned outcome was delivered. The default delivers one at a time and stops at the first
     * record not delivered.
     */
    default List<Outcome> deliverAll(List<Delivery> batch) throws InterruptedException {
        List<Outcome> outcomes = new ArrayList<>();
        for (Delivery d : batch) {
            Outcome outcome = deliver(d);
            outcomes.add(outcome);
            if (!(outcome instanceof Outcome.Delivered)) break;
        }
        return outcomes;
    }

    /**
     * The most records {@link #deliverAll} is given at once: 1 (the default) for connectors that
     * send one at a time, so the dispatcher counts and advances after each; more for one that
     * batches.
     */
    default int maxBatch() {
        return 1;
    }

    /** Releases connections; never throws. */
    @Override
    void close();
}
