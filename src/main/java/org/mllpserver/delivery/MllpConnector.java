package org.mllpserver.delivery;

import org.mllpserver.mllp.MllpClient;
import org.mllpserver.tls.TlsClient;
import org.mllpserver.tls.TlsException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * Forwards each message over MLLP to {@code host:port}, exactly as received, and waits for the
 * ACK within the ACK timeout. One connection, kept open between messages and opened again after
 * any failure (a connection in doubt is never reused).
 *
 * <p>The ACK decides ({@link #classify}): its MSA-2 must equal the message's MSH-10 (the stored
 * control id), then MSA-1 AA/CA is delivered, AE/CE may work later, AR/CR never will. No answer,
 * a refused or broken connection, or an ACK that is not one, may all work later. A message whose
 * MSH-15 asks for no accept ACK (NE) is delivered once written; one that asks for it only on
 * error (ER) is delivered when none comes within the ACK timeout. The message itself (its MSH-10)
 * is what lets the peer drop a repeat: MLLP has no header for the record id.
 */
public final class MllpConnector implements Connector {

    /** An ACK is small; a larger reply is not one. */
    private static final int MAX_ACK_BYTES = 1 << 20;

    private final String name;
    private final ConnectorSettings.Mllp settings;
    private final Optional<SSLContext> tls;
    private MllpClient client;

    /** Throws when the TLS files cannot be used (the message names the file and why). */
    public MllpConnector(String name, ConnectorSettings.Mllp settings) throws TlsException {
        this.name = name;
        this.settings = settings;
        this.tls = settings.tls() ? Optional.of(TlsClient.context(settings.caFile(), settings.certFile(), settings.keyFile()))
                : Optional.empty();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome deliver(Delivery delivery) {
        String acceptAck = acceptAckType(delivery.message().raw());
        byte[] reply;
        try {
            if (client == null) client = connect();
            client.send(delivery.message().raw());
            if (acceptAck.equals("NE")) return Outcome.DELIVERED; // it asks for no accept ACK: written is all we can know
            reply = client.awaitReply();
        } catch (SocketTimeoutException e) {
            closeQuietly();
            // ER asks for an accept ACK only on an error: silence within the timeout is success.
            return acceptAck.equals("ER") ? Outcome.DELIVERED : classify(e);
        } catch (IOException e) {
            closeQuietly();
            return classify(e);
        }
        Outcome outcome = classify(new String(reply, StandardCharsets.ISO_8859_1), delivery.message().controlId());
        if (!(outcome instanceof Outcome.Delivered)) closeQuietly(); // the peer may be confused: start afresh
        return outcome;
    }

    private MllpClient connect() throws IOException {
        if (tls.isEmpty()) {
            return MllpClient.connect(new InetSocketAddress(settings.host(), settings.port()), settings.connectTimeout(),
                    settings.ackTimeout(), MAX_ACK_BYTES);
        }
        // The handshake gets the connect timeout; the server's name is checked against its certificate.
        return MllpClient.over(TlsClient.connect(tls.get(), settings.host(), settings.port(), settings.connectTimeout(),
                settings.connectTimeout()), settings.ackTimeout(), MAX_ACK_BYTES);
    }

    /** A failure to get an answer: each may be gone on the next attempt (a TLS failure too: a certificate to fix). */
    private Outcome classify(IOException e) {
        String where = settings.host() + ":" + settings.port();
        if (e instanceof ConnectException) return new Outcome.Retryable("connection to " + where + " refused");
        if (e instanceof SocketTimeoutException) return new Outcome.Retryable("no ACK from " + where + " within " + settings.ackTimeout().toMillis() + " ms");
        return new Outcome.Retryable(e.getClass().getSimpleName() + " talking to " + where + ": " + e.getMessage());
    }

    /** The answer: which ACK code, and is it the ACK for this message. */
    static Outcome classify(String ack, String controlId) {
        String[] msa = msa(ack);
        if (msa == null) return new Outcome.Retryable("the reply has no MSA segment: not an ACK");
        String code = msa.length > 1 ? msa[1] : "";
        String acknowledged = msa.length > 2 ? msa[2] : "";
        if (!acknowledged.equals(controlId)) {
            // Another message's ACK: the peer is out of step. A fresh connection and another try.
            return new Outcome.Retryable("the ACK's MSA-2 does not match the message's MSH-10");
        }
        return switch (code) {
            case "AA", "CA" -> Outcome.DELIVERED;                                              // accepted
            case "AE", "CE" -> new Outcome.Retryable("the peer answered " + code);             // an error it may get over
            case "AR", "CR" -> new Outcome.Undeliverable("the peer rejected the message (" + code + ")"); // it will not take it
            default -> new Outcome.Retryable("unknown ACK code in MSA-1");
        };
    }

    /**
     * MSH-15 (accept acknowledgement type) of the message being forwarded: the peer answers as it
     * asks, so NE (never) and ER (only on error) change what silence means. "" when absent.
     */
    static String acceptAckType(byte[] raw) {
        int end = 0;
        while (end < raw.length && raw[end] != '\r' && raw[end] != '\n') end++;
        String msh = new String(raw, 0, end, StandardCharsets.ISO_8859_1);
        if (msh.length() < 4 || !msh.startsWith("MSH")) return "";
        String[] fields = msh.split(java.util.regex.Pattern.quote(String.valueOf(msh.charAt(3))), -1);
        return fields.length > 14 ? fields[14].strip().toUpperCase(java.util.Locale.ROOT) : ""; // fields[14] is MSH-15
    }

    /** The MSA segment split on the ACK's own field separator, or null. */
    private static String[] msa(String ack) {
        String text = ack.replace("\r\n", "\r").replace('\n', '\r');
        if (!text.startsWith("MSH") || text.length() < 4) return null;
        String separator = String.valueOf(text.charAt(3));
        for (String segment : text.split("\r")) {
            if (segment.startsWith("MSA" + separator)) return segment.split(java.util.regex.Pattern.quote(separator), -1);
        }
        return null;
    }

    private void closeQuietly() {
        if (client == null) return;
        try {
            client.close();
        } catch (IOException ignored) {
            // closing a connection we gave up on
        }
        client = null;
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
