package org.mllpserver.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * A TLS server on loopback for tests, as the listener will use {@link TlsMaterial}: each accepted
 * socket is wrapped and handshaken on its own virtual thread. After a handshake it sends one byte
 * ('A') and reads until the client closes. Every handshake's outcome, success or failure, is
 * reported in arrival order through {@link #next()}.
 */
final class TlsServer implements AutoCloseable {

    static final int READ_TIMEOUT_MILLIS = 5_000;
    static final byte HELLO = 'A';
    /** How long a test waits for a handshake to reach the server before failing. */
    private static final long HANDSHAKE_WAIT_SECONDS = 5;

    /** One handshake as the server saw it: a session, or the failure. */
    record Handshake(SSLSession session, Exception failure) {
        SSLSession succeeded() {
            if (failure != null) throw new AssertionError("the server's handshake failed: " + failure, failure);
            return session;
        }

        Exception failed() {
            if (failure == null) {
                throw new AssertionError("the server accepted a handshake it should have refused: "
                        + session.getProtocol() + " " + session.getCipherSuite() + " " + PeerIdentity.of(session));
            }
            return failure;
        }
    }

    private final TlsMaterial material;
    private final ServerSocket listener;
    private final BlockingQueue<Handshake> handshakes = new LinkedBlockingQueue<>();

    TlsServer(TlsMaterial material) throws IOException {
        this.material = material;
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().name("tls-test-accept").start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The next handshake's outcome, waiting at most a few seconds for it. */
    Handshake next() throws InterruptedException {
        Handshake handshake = handshakes.poll(HANDSHAKE_WAIT_SECONDS, TimeUnit.SECONDS);
        if (handshake == null) throw new AssertionError("no handshake reached the server within " + HANDSHAKE_WAIT_SECONDS + " s");
        return handshake;
    }

    private void acceptLoop() {
        while (true) {
            Socket accepted;
            try {
                accepted = listener.accept();
            } catch (IOException closed) {
                return; // close() closed the listener
            }
            Thread.ofVirtual().name("tls-test-connection").start(() -> serve(accepted));
        }
    }

    private void serve(Socket accepted) {
        boolean handshaken = false;
        try (SSLSocket socket = material.wrap(accepted)) {
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            socket.startHandshake();
            handshaken = true;
            handshakes.add(new Handshake(socket.getSession(), null));
            socket.getOutputStream().write(HELLO);
            socket.getOutputStream().flush();
            socket.getInputStream().transferTo(OutputStream.nullOutputStream()); // until the client closes
        } catch (IOException e) {
            // After the handshake, how the client leaves (close_notify or a reset) is not under test.
            if (!handshaken) handshakes.add(new Handshake(null, e));
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
