package org.mllpserver.testing;

import org.mllpserver.mllp.FrameReader;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A downstream MLLP system for tests: a real server socket on loopback, one virtual thread per
 * connection, answering each message with the ACK code {@link Answers} chooses (or no answer at
 * all), and keeping every message it received, in order.
 */
public final class MllpPeer implements AutoCloseable {

    /** The ACK code for the n-th time (1-based) a message with this control id arrives; null = no answer. */
    @FunctionalInterface
    public interface Answers {
        String code(String controlId, int arrival);
    }

    private final ServerSocket server;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final List<String> received = new ArrayList<>();
    private final List<byte[]> receivedBytes = new ArrayList<>();
    private final Map<String, Integer> arrivals = new HashMap<>();
    private volatile Answers answers;

    private MllpPeer(ServerSocket server, Answers answers) {
        this.server = server;
        this.answers = answers;
        Thread.ofVirtual().name("mllp-peer-accept").start(this::acceptLoop);
    }

    public static MllpPeer start(Answers answers) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new MllpPeer(server, answers);
    }

    public int port() {
        return server.getLocalPort();
    }

    public void answer(Answers next) {
        this.answers = next;
    }

    /** The control ids received so far, in arrival order (repeats included). */
    public synchronized List<String> received() {
        return List.copyOf(received);
    }

    public synchronized List<byte[]> receivedBytes() {
        return List.copyOf(receivedBytes);
    }

    /** Waits until {@code n} messages arrived (bounded by {@code timeout}); returns them. */
    public synchronized List<String> awaitReceived(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (received.size() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError("only " + received.size() + " of " + n + " messages arrived: " + received);
            wait(Math.max(1, left / 1_000_000));
        }
        return List.copyOf(received);
    }

    /** Waits until a message with this control id arrived (bounded by {@code timeout}); returns all received. */
    public synchronized List<String> awaitControlId(String controlId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!received.contains(controlId)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError(controlId + " never arrived: " + received);
            wait(Math.max(1, left / 1_000_000));
        }
        return List.copyOf(received);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.add(socket);
                Thread.ofVirtual().name("mllp-peer").start(() -> serve(socket));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            FrameReader frames = new FrameReader((buffer, offset, length, timeout) -> in.read(buffer, offset, length),
                    16 << 20, Duration.ofMinutes(1), Duration.ofMinutes(1), System::nanoTime);
            while (frames.next() instanceof FrameReader.Frame frame) {
                String text = new String(frame.payload(), StandardCharsets.ISO_8859_1);
                String controlId = Hl7Text.of(frame.payload()).field("MSH", 10);
                String code;
                synchronized (this) {
                    received.add(controlId);
                    receivedBytes.add(frame.payload());
                    int arrival = arrivals.merge(controlId, 1, Integer::sum);
                    code = answers.code(controlId, arrival);
                    notifyAll();
                }
                if (code == null) continue; // no answer: the sender's ACK timeout decides
                String ack = "MSH|^~\\&|PEER|PEER|MLLP|SERVER|20260101000000||ACK|ACK-" + controlId + "|P|2.5\rMSA|" + code + "|"
                        + controlId + "\r";
                out.write(FrameReader.frame(ack.getBytes(StandardCharsets.ISO_8859_1)));
                out.flush();
                if (text.isEmpty()) break;
            }
        } catch (IOException e) {
            // the sender closed or reset the connection
        } finally {
            connections.remove(socket);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : connections) s.close();
    }
}
