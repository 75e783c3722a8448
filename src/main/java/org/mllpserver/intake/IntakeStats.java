package org.mllpserver.intake;

import org.mllpserver.hl7.AckCode;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers by code; answers not sent because an enhanced-mode sender asked for none; messages a
 * validation rule rejected, messages a rule or filter could not be evaluated on, and messages
 * stored but addressed to no connector.
 */
public final class IntakeStats {
    private final Map<AckCode, AtomicLong> answers = new EnumMap<>(AckCode.class);
    private final AtomicLong suppressed = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong ruleErrors = new AtomicLong();
    private final AtomicLong addressedToNone = new AtomicLong();

    public IntakeStats() {
        for (AckCode code : AckCode.values()) answers.put(code, new AtomicLong());
    }

    void counted(AckCode code, boolean sent) {
        answers.get(code).incrementAndGet();
        if (!sent) suppressed.incrementAndGet();
    }

    public long answered(AckCode code) {
        return answers.get(code).get();
    }

    void rejected() {
        rejected.incrementAndGet();
    }

    void ruleErrors() {
        ruleErrors.incrementAndGet();
    }

    void addressedToNone() {
        addressedToNone.incrementAndGet();
    }

    /** Messages a validation rule rejected (AR). */
    public long rejectedByRules() {
        return rejected.get();
    }

    /** Messages on which a rule or filter failed to evaluate (AE). */
    public long ruleErrorCount() {
        return ruleErrors.get();
    }

    /** Messages stored but matching no connector's filter. */
    public long addressedToNoConnector() {
        return addressedToNone.get();
    }

    public long suppressed() {
        return suppressed.get();
    }
}
