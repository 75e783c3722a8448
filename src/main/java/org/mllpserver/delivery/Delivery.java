package org.mllpserver.delivery;

import org.mllpserver.journal.StoredMessage;

/**
 * One record to deliver to one connector: the stored message (raw bytes exactly as received and
 * its metadata) and where it is in the journal. {@code message().id()} is the record's stable id:
 * every delivery carries it (HTTP Idempotency-Key, the PostgreSQL primary key, the file name) so
 * a downstream can drop a repeat; a delivery is at least once.
 */
public record Delivery(long position, StoredMessage message) {}
