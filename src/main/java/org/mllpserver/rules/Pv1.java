package org.mllpserver.rules;

/** The CEL variable {@code pv1}: the first PV1 segment; every value "" when there is none. */
public record Pv1(
        String patient_class,   // PV1-2
        String location,        // PV1-3.1 (point of care)
        String attending,       // PV1-7.1 (the attending doctor's id)
        String admit_datetime,  // PV1-44.1
        String visit_number) {  // PV1-19.1
}
