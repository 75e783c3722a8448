package org.mllpserver.events;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What happens, as facts, reported by the parts that make it happen (intake, the listeners,
 * the journal, delivery, the dead letter queue, the operator's commands) to whoever listens:
 * metrics and the audit trail are two listeners of the same facts. Passed in by the composition
 * root; no static registry.
 *
 * <p>Contract for listeners: called on the thread where the fact happened, often a connection's
 * or the journal flusher's, so a listener must return at once (count, or queue for its own
 * thread), must not block, and must not throw. A fact never carries message content: header
 * fields the server logs anyway (MSH-3/4/9/10), a reference to the payload for hashing, sizes,
 * codes and reasons.
 *
 * <p>Every method has an empty default, so a listener implements what it needs.
 */
public interface Events {

    /** Nobody listens. */
    Events NONE = new Events() {
    };

    /** What became of a received frame. */
    enum FrameOutcome {
        /** Stored durably and answered AA (CA). */
        ACCEPTED,
        /** Accepted before within DEDUP_WINDOW: answered as then, not stored again. */
        DUPLICATE,
        /** Not readable or not acceptable HL7 (or too large, or no memory to hold it): kept raw, answered AE. */
        REFUSED,
        /** A validation rule failed: kept raw, answered AR (or as configured). */
        REJECTED,
        /** A rule could not be evaluated: kept raw, answered AE. */
        RULE_ERROR,
        /** The journal could not store it: answered AE, not kept (the storage is what failed). */
        STORAGE_FAILED
    }

    /**
     * A frame was decided and its answer built.
     *
     * @param ackCode     MSA-1 of the answer (AA AR AE CA CR CE), or {@code none} when no answer is sent
     * @param recordId    the journal record it was stored or kept as, if any
     * @param position    that record's journal position, or -1
     * @param payload     the frame's bytes (a reference: for a hash, never to be logged or kept)
     * @param reasons     the failed rules' names, or the refusal's reason (no message content)
     */
    record FrameAnswered(Instant at, String peer, String tlsIdentity, FrameOutcome outcome, String ackCode,
                         String sendingApplication, String sendingFacility, String messageType, String controlId,
                         Optional<UUID> recordId, long position, byte[] payload, List<String> reasons) {}

    default void frameAnswered(FrameAnswered event) {
    }

    /** A listener wrote an answer: {@code nanos} from the frame being complete to the answer written. */
    default void ackWritten(String listener, long nanos) {
    }

    /** The rules and filters ran on a message, taking {@code nanos}; {@code failedRules} by their configured names. */
    default void rulesEvaluated(long nanos, List<String> failedRules) {
    }

    /** How a connection attempt ended at a listener. */
    enum ConnectionOutcome { ACCEPTED, OVER_LIMIT, TLS_FAILED }

    default void connectionOpened(String listener, ConnectionOutcome outcome) {
    }

    /** A connection that had been accepted closed. */
    default void connectionClosed(String listener) {
    }

    /** A TLS handshake ended: {@code ok}, or failed (bad certificate, a client not allowed, timed out). */
    default void tlsHandshake(String listener, boolean ok) {
    }

    /** The journal forced a batch of {@code records} ({@code bytes}) in {@code nanos}. */
    default void journalForced(int records, long bytes, long nanos) {
    }

    /** What one delivery attempt came to. */
    enum DeliveryOutcome { DELIVERED, RETRY, DEAD_LETTER }

    /**
     * One attempt to deliver a record to a connector.
     *
     * @param attempt the attempt's number for this record, from 1
     * @param reason  why it failed (empty when delivered); never message content
     */
    record Delivery(Instant at, String connector, DeliveryOutcome outcome, UUID recordId, long position, String messageType,
                    String controlId, int attempt, long nanos, String reason) {}

    default void delivery(Delivery event) {
    }

    /**
     * An operator did something: replayed or purged a dead letter, read a message's content.
     *
     * @param who    the control socket's peer uid ({@code uid:1000}) or the admin client's address
     * @param action {@code dlq replay}, {@code dlq purge}, {@code dlq show content}, ...
     */
    record OperatorAction(Instant at, String who, String action, Optional<UUID> deadLetterId, Optional<UUID> recordId, String detail) {}

    default void operatorAction(OperatorAction event) {
    }

    /** The configuration was loaded (at start, or a reload): a hash of what took effect, without secrets. */
    record ConfigurationLoaded(Instant at, String sha256, String why) {}

    default void configurationLoaded(ConfigurationLoaded event) {
    }

    /** The TLS files were reloaded (SIGHUP, TLS_WATCH), or a reload failed and the old ones stay. */
    record TlsReloaded(Instant at, boolean ok, String why) {}

    default void tlsReloaded(TlsReloaded event) {
    }

    /** Events to both listeners, first {@code a}, then {@code b}. */
    static Events both(Events a, Events b) {
        if (a == NONE) return b;
        if (b == NONE) return a;
        return new Events() {
            @Override
            public void frameAnswered(FrameAnswered event) {
                a.frameAnswered(event);
                b.frameAnswered(event);
            }

            @Override
            public void ackWritten(String listener, long nanos) {
                a.ackWritten(listener, nanos);
                b.ackWritten(listener, nanos);
            }

            @Override
            public void rulesEvaluated(long nanos, List<String> failedRules) {
                a.rulesEvaluated(nanos, failedRules);
                b.rulesEvaluated(nanos, failedRules);
            }

            @Override
            public void connectionOpened(String listener, ConnectionOutcome outcome) {
                a.connectionOpened(listener, outcome);
                b.connectionOpened(listener, outcome);
            }

            @Override
            public void connectionClosed(String listener) {
                a.connectionClosed(listener);
                b.connectionClosed(listener);
            }

            @Override
            public void tlsHandshake(String listener, boolean ok) {
                a.tlsHandshake(listener, ok);
                b.tlsHandshake(listener, ok);
            }

            @Override
            public void journalForced(int records, long bytes, long nanos) {
                a.journalForced(records, bytes, nanos);
                b.journalForced(records, bytes, nanos);
            }

            @Override
            public void delivery(Delivery event) {
                a.delivery(event);
                b.delivery(event);
            }

            @Override
            public void operatorAction(OperatorAction event) {
                a.operatorAction(event);
                b.operatorAction(event);
            }

            @Override
            public void configurationLoaded(ConfigurationLoaded event) {
                a.configurationLoaded(event);
                b.configurationLoaded(event);
            }

            @Override
            public void tlsReloaded(TlsReloaded event) {
                a.tlsReloaded(event);
                b.tlsReloaded(event);
            }
        };
    }
}
