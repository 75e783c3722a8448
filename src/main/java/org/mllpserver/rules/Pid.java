package org.mllpserver.rules;

import java.util.List;

/** The CEL variable {@code pid}: the first PID segment; every value "" when there is none. */
public record Pid(
        String id,                  // PID-3.1 of the first repetition
        List<String> id_list,       // PID-3.1 of every repetition
        String assigning_authority, // PID-3.4.1 of the first repetition
        String family_name,         // PID-5.1.1
        String given_name,          // PID-5.2
        String dob,                 // PID-7.1
        String sex,                 // PID-8
        String account_number) {    // PID-18.1
}
