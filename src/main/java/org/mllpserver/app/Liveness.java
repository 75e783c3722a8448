package org.mllpserver.app;

import org.mllpserver.audit.AuditLog;
import org.mllpserver.delivery.DeliveryService;
import org.mllpserver.journal.Journal;
import org.mllpserver.mllp.MllpListener;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the server serves, as a sender would find it: what {@code /healthz} reports, and what
 * the watchdog in {@link Main} acts on.
 *
 * <p>Two lists. {@link #problems()}: a listener not accepting, the journal flusher stuck on one
 * batch (a hung disk) or ended, the audit writer likewise, a connector's dispatcher ended; a supervisor that sees them for a
 * while restarts the process. {@link #fatal()}: the subset no waiting can cure, a loop that
 * serves others has ended (each catches every failure by itself, so this means a bug or a
 * failure inside its own recovery); the watchdog then exits the process non-zero at once, which
 * loses nothing: AA is only sent after the fsync, and unanswered senders send again.
 */
final class Liveness {

    /** One batch's write and force taking this long means a hung disk, not a slow one. */
    static final Duration FLUSHER_STUCK_AFTER = Duration.ofSeconds(30);

    private final List<MllpListener> listeners;
    private final Journal journal;
    private final DeliveryService delivery;
    private final AuditLog audit;

    Liveness(List<MllpListener> listeners, Journal journal, DeliveryService delivery, AuditLog audit) {
        this.listeners = List.copyOf(listeners);
        this.journal = journal;
        this.delivery = delivery;
        this.audit = audit;
    }

    /**
     * Why the server should not be sent traffic although it is live: the audit's writes keep
     * failing (a full disk), so answers will soon wait for it.
     */
    java.util.Optional<String> degraded() {
        return audit.writesFailing();
    }

    /** What is wrong now; empty while the server serves. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        for (MllpListener listener : listeners) listener.acceptProblem().ifPresent(problems::add);
        journal.flusherProblem(FLUSHER_STUCK_AFTER).ifPresent(problems::add);
        audit.writerStuck(FLUSHER_STUCK_AFTER).ifPresent(problems::add);
        for (String connector : delivery.endedDispatchers()) problems.add("connector " + connector + ": its dispatcher has ended");
        return problems;
    }

    /** A loop that serves others has ended: the process cannot go on. */
    List<String> fatal() {
        List<String> fatal = new ArrayList<>();
        for (MllpListener listener : listeners) {
            if (listener.acceptThreadEnded()) fatal.add(listener.acceptProblem().orElse("a listener's accept thread has ended"));
        }
        if (journal.flusherEnded()) fatal.add("the journal flusher has ended");
        if (audit.writerEnded()) fatal.add("the audit writer has ended");
        for (String connector : delivery.endedDispatchers()) fatal.add("connector " + connector + ": its dispatcher has ended");
        return fatal;
    }
}
