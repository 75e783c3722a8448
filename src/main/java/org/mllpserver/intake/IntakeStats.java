package org.mllpserver.intake;

import org.mllpserver.hl7.AckCode;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Answers by code, and answers not sent because an enhanced-mode sender asked for none. */
public final class IntakeStats {
    private final Map<AckCode, AtomicLong> answers = new EnumMap<>(AckCode.class);
    private final AtomicLong suppressed = new AtomicLong();

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

    public long suppressed() {
        return suppressed.get();
    }
}
