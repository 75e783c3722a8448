package org.mllpserver.mllp;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * A stop-and-wait MLLP sender: one frame out, one reply frame back, on one connection. Used by
 * the {@code send} command and the tests; the mllp connector builds on it later.
 *
 * <p>Threading: one thread at a time per client.
 */
public final class MllpClient implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final FrameReader replies;

    private MllpClient(Socket socket, Duration replyTimeout, int maxReplyBytes) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        var in = socket.getInputStream();
        this.replies = new FrameReader((buffer, offset, length, timeout) -> {
            socket.setSoTimeout((int) Math.clamp(timeout.toMillis(), 1, Integer.MAX_VALUE));
            return in.read(buffer, offset, length);
        }, maxReplyBytes, replyTimeout, replyTimeout, System::nanoTime);
    }

    /** Connects with a timeout; replies must start and complete within {@code replyTimeout}. */
    public static MllpClient connect(InetSocketAddress address, Duration connectTimeout, Duration replyTimeout,
                                     int maxReplyBytes) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, (int) Math.clamp(connectTimeout.toMillis(), 1, Integer.MAX_VALUE));
            socket.setTcpNoDelay(true);
            return new MllpClient(socket, replyTimeout, maxReplyBytes);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Uses a socket that is connected already (for example a TLS socket after its handshake). */
    public static MllpClient over(Socket connected, Duration replyTimeout, int maxReplyBytes) throws IOException {
        try {
            connected.setTcpNoDelay(true);
            return new MllpClient(connected, replyTimeout, maxReplyBytes);
        } catch (IOException | RuntimeException e) {
            connected.close();
            throw e;
        }
    }

    /** Sends one frame without waiting for anything. */
    public void send(byte[] payload) throws IOException {
        out.write(FrameReader.frame(payload));
        out.flush();
    }

    /** Sends one frame and returns the payload of the reply frame. */
    public byte[] exchange(byte[] payload) throws IOException {
        send(payload);
        return awaitReply();
    }

    /** Waits for the next reply frame. */
    public byte[] awaitReply() throws IOException {
        return switch (replies.next()) {
            case FrameReader.Frame frame -> frame.payload();
            case FrameReader.EndOfStream end -> throw new EOFException("the server closed the connection without a reply");
            case FrameReader.TimedOut timedOut -> throw new SocketTimeoutException("no reply within the reply timeout");
            case FrameReader.TooLarge tooLarge -> throw new IOException("reply larger than " + tooLarge.maxFrameBytes() + " bytes");
            case FrameReader.OverBudget over -> throw new IllegalStateException("a client's replies have no memory budget");
        };
    }

    /** The underlying socket, for tests that need to misbehave on purpose. */
    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
