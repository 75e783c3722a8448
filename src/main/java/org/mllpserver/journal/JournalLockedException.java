package org.mllpserver.journal;

import java.io.IOException;

/** Another process has the journal open. */
public final class JournalLockedException extends IOException {
    public JournalLockedException(String message) {
        super(message);
    }
}
