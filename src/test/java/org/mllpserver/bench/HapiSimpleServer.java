package org.mllpserver.bench;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;

import java.io.IOException;
import java.util.Map;

/**
 * The baseline the issue names: HAPI's own SimpleServer, as its documentation sets it up
 * (default context: canonical model, default validation), answering each message with
 * {@code generateACK()}. It persists nothing. Run it from a scratch directory: HAPI's id
 * generator writes a file into the working directory.
 */
public final class HapiSimpleServer {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        HapiContext context = new DefaultHapiContext();
        HL7Service server = context.newServer(port, false);
        server.registerApplication("*", "*", new ReceivingApplication<Message>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) throws HL7Exception {
                try {
                    return message.generateACK();
                } catch (IOException e) {
                    throw new HL7Exception(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        });
        server.startAndWait();
        System.out.println("HAPI SimpleServer listening on " + port);
        Thread.currentThread().join();
    }
}
