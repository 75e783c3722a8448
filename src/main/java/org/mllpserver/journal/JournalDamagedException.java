package org.mllpserver.journal;

import java.io.IOException;

/**
 * The journal holds damaged acknowledged data, or files that do not belong together: the
 * server must not start on it. The message names the file, the position and what to do.
 */
public final class JournalDamagedException extends IOException {
    public JournalDamagedException(String message) {
        super(message);
    }
}
