package org.mllpserver.audit;

import java.io.IOException;

/** The audit's files are damaged or changed where the writer or a reader needs them whole; the message says where and what to do. */
public final class AuditDamagedException extends IOException {

    public AuditDamagedException(String message) {
        super(message);
    }
}
