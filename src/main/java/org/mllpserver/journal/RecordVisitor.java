package org.mllpserver.journal;

/** Sees each record of the journal once, in order, as the journal is opened. */
@FunctionalInterface
public interface RecordVisitor {

    RecordVisitor NONE = (position, type, body) -> { };

    void visit(long position, RecordType type, byte[] body);
}
