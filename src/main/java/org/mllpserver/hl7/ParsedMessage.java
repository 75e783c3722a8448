package org.mllpserver.hl7;

import ca.uhn.hl7v2.model.Message;

/**
 * A message that passed the checks and HAPI's parse. The HAPI model stays inside this package;
 * the rules (a later issue) read fields through methods added here.
 */
public final class ParsedMessage {

    private final MshHeader header;
    private final Hl7Version version;
    private final Message model;

    ParsedMessage(MshHeader header, Hl7Version version, Message model) {
        this.header = header;
        this.version = version;
        this.model = model;
    }

    public MshHeader header() {
        return header;
    }

    public Hl7Version version() {
        return version;
    }

    Message model() {
        return model;
    }
}
