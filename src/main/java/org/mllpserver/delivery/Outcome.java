package org.mllpserver.delivery;

/** What came of one delivery attempt; each connector decides it in one place, its classify method. */
public sealed interface Outcome permits Outcome.Delivered, Outcome.Retryable, Outcome.Undeliverable {

    /** The downstream has it. */
    record Delivered() implements Outcome {}

    /** It may work later (timeouts, refused connections, 5xx, AE, transient SQL states): try again after a backoff. */
    record Retryable(String reason) implements Outcome {}

    /** It will not work however often it is tried (4xx, AR, constraint violations): a dead letter at once. */
    record Undeliverable(String reason) implements Outcome {}

    Outcome DELIVERED = new Delivered();
}
