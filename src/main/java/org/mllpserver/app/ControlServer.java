package org.mllpserver.app;

import org.mllpserver.mllp.Deadlines;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The running server's control socket: a Unix domain socket, {@code DATA_DIR/control/control.sock},
 * only its owner may use (directory 0700, socket 0600). {@code ./run.sh dlq ...} sends its arguments here, so dead
 * letters can be listed, shown, replayed and purged while the server runs.
 *
 * <p>Protocol: the client sends one line, the arguments separated by tabs; the server answers
 * with the command's output and closes, the last line being {@code exit <code>}. A request is at
 * most {@link #MAX_REQUEST_BYTES} and must arrive within {@link #REQUEST_TIMEOUT}. Each
 * connection gets a virtual thread.
 */
final class ControlServer implements AutoCloseable {

    static final String SOCKET_FILE = "control.sock";
    static final int MAX_REQUEST_BYTES = 64 * 1024;
    /** A request line must arrive within this; commands themselves (a replay of many dead letters) may take longer. */
    static final java.time.Duration REQUEST_TIMEOUT = java.time.Duration.ofSeconds(10);
    /** After a failed accept, the control socket waits this long before the next. */
    private static final java.time.Duration ACCEPT_ERROR_PAUSE = java.time.Duration.ofMillis(100);

    private static final System.Logger LOG = System.getLogger(ControlServer.class.getName());

    /** Runs one command for {@code who} (the peer's user, as the kernel says); returns its exit code. */
    interface Handler {
        int run(String[] args, PrintStream out, String who);

        /** True for a command that streams until the client goes away (logs --follow): its thread is interrupted then. */
        default boolean streams(String[] args) {
            return false;
        }
    }

    private final Path path;
    private final ServerSocketChannel server;
    /** Requests being served: a stop interrupts them (a follow of the logs would otherwise stream on). */
    private final java.util.Set<Thread> active = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private ControlServer(Path path, ServerSocketChannel server, Handler handler) {
        this.path = path;
        this.server = server;
        this.acceptor = Thread.ofVirtual().name("control-accept").start(() -> acceptLoop(handler));
    }

    /** Where the control socket of the server using {@code dataDir} is. */
    static Path socketPath(Path dataDir) {
        return dataDir.resolve("control").resolve(SOCKET_FILE);
    }

    /**
     * Opens the socket in {@code DATA_DIR/control}, a directory only the server's user may enter
     * (0700, made before the socket exists, so there is no moment it is open to others). Empty
     * when it cannot be opened (e.g. a DATA_DIR path too long for a Unix socket): the server runs
     * without it, and {@code dlq} works when the server is stopped.
     */
    static java.util.Optional<ControlServer> start(Path dataDir, Handler handler) {
        Path directory = dataDir.resolve("control");
        Path path = directory.resolve(SOCKET_FILE);
        try {
            Files.createDirectories(directory);
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
            Files.deleteIfExists(path); // one server per DATA_DIR (the journal lock): a socket file here is a dead one's
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                server.bind(UnixDomainSocketAddress.of(path));
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
            LOG.log(INFO, "control socket {0} (./run.sh dlq, ./run.sh logs)", path);
            return java.util.Optional.of(new ControlServer(path, server, handler));
        } catch (IOException | RuntimeException e) {
            LOG.log(WARNING, "no control socket at {0} ({1}): ./run.sh dlq works only while the server is stopped", path, e.toString());
            return java.util.Optional.empty();
        }
    }

    /** Accepts until closed; an I/O error or an {@link Error} (out of memory) is logged and accepting goes on after a pause. */
    private void acceptLoop(Handler handler) {
        while (server.isOpen()) {
            SocketChannel client = null;
            try {
                client = server.accept();
                SocketChannel accepted = client;
                Thread serving = Thread.ofVirtual().name("control").unstarted(() -> {
                try {
                    serve(accepted, handler);
                } finally {
                    active.remove(Thread.currentThread());
                }
            });
            active.add(serving);
            serving.start();
            } catch (ClosedChannelException e) {
                return;
            } catch (Throwable e) { // an Error too: the operator's way in must outlive it
                closeQuietly(client);
                try {
                    LOG.log(WARNING, "control socket: accept failed: {0}; accepting again in {1} ms", e.toString(),
                            String.valueOf(ACCEPT_ERROR_PAUSE.toMillis()));
                    Thread.sleep(ACCEPT_ERROR_PAUSE);
                } catch (InterruptedException interrupted) {
                    return; // close() interrupts this thread
                } catch (Throwable outOfMemory) {
                    // no memory even for the log line: try the next accept
                }
            }
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "control socket: closing a connection failed: {0}", e.toString());
        }
    }

    private static void serve(SocketChannel client, Handler handler) {
        // A client that connects and never sends its line is closed after REQUEST_TIMEOUT.
        java.util.concurrent.ScheduledFuture<?> deadline = Deadlines.after(REQUEST_TIMEOUT.toMillis(), () -> {
            try {
                client.close();
            } catch (IOException ignored) {
                // closing a control connection that ran out of time
            }
        });
        try (client) {
            String request = readLine(client);
            deadline.cancel(false);
            // Streamed as it is written (a list of a million dead letters is not held in memory first).
            PrintStream out = new PrintStream(new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(client), 64 * 1024),
                    false, StandardCharsets.UTF_8);
            String[] args = request == null || request.isEmpty() ? new String[0] : request.split("\t");
            if (handler.streams(args)) interruptWhenGone(client, Thread.currentThread());
            int code = request == null ? Main.EXIT_USAGE : handler.run(args, out, peerOf(client));
            if (request == null) out.println("request too long or not a line");
            out.println("exit " + code);
            out.flush();
            if (out.checkError()) LOG.log(WARNING, "control socket: the client went away before the whole answer was written");
        } catch (IOException | RuntimeException e) {
            LOG.log(WARNING, "control socket: a request failed: {0}", e.toString());
        }
    }

    /**
     * For a streaming command: a reader that waits for the client's end of the connection to
     * close (it sends nothing after its request), then interrupts the thread that streams.
     */
    private static void interruptWhenGone(SocketChannel client, Thread streaming) {
        Thread.ofVirtual().name("control-watch").start(() -> {
            ByteBuffer one = ByteBuffer.allocate(1);
            try {
                while (client.read(one.clear()) >= 0) {
                    // anything more the client sends is ignored
                }
            } catch (IOException closed) {
                // closed by the other side or by us: either way the stream is over
            }
            streaming.interrupt();
        });
    }

    /** Who is at the other end: the user the kernel credits the connecting process to (SO_PEERCRED). */
    private static String peerOf(SocketChannel client) {
        try {
            java.nio.file.attribute.UserPrincipal user = client.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user();
            return "local user " + user.getName();
        } catch (IOException | RuntimeException e) {
            return "local user (unknown: " + e.getMessage() + ")";
        }
    }

    /** The request line, or null when it is longer than the limit or never ends. */
    private static String readLine(SocketChannel client) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        while (line.size() <= MAX_REQUEST_BYTES) {
            buffer.clear();
            if (client.read(buffer) < 0) return null;
            for (int i = 0; i < buffer.position(); i++) {
                byte b = buffer.get(i);
                if (b == '\n') return line.toString(StandardCharsets.UTF_8);
                line.write(b);
            }
        }
        return null;
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(WARNING, "control socket: closing failed: {0}", e.getMessage());
        }
        acceptor.interrupt();
        active.forEach(Thread::interrupt);
    }
}
