package org.mllpserver.mllp;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * Accepts MLLP connections and serves each one on its own virtual thread.
 *
 * <p>One platform thread accepts. Before each {@code accept()} it tries to take a connection
 * permit ({@link Limits#maxConnections()}, 0 = no limit); a connection accepted without a permit
 * is closed at once and counted in {@link ListenerStats#refusedOverLimit()}. The permit is
 * released in the connection's single {@code finally}, together with the socket and the
 * bookkeeping.
 *
 * <p>{@link #drain(Duration)} stops accepting, closes connections that are waiting for a frame,
 * lets connections in the middle of a frame finish it and send their answer, and force-closes
 * whatever is still open when the drain timeout ends.
 *
 * <p>Threading: {@link #start()} and {@link #drain(Duration)} are called by the composition
 * root; everything else runs on the accept thread or a connection's thread.
 */
public final class MllpListener {

    /**
     * The limits a listener enforces; each has a reason.
     *
     * @param maxConnections open connections at once, 0 for no limit (protects threads and memory)
     * @param idleTimeout    how long a connection may wait without starting a frame (frees
     *                       sockets held by dead peers)
     * @param frameTimeout   deadline for a started frame to complete (stops slow-drip senders)
     * @param maxFrameBytes  largest frame accepted (bounds memory per connection)
     */
    public record Limits(int maxConnections, Duration idleTimeout, Duration frameTimeout, int maxFrameBytes) {
        public Limits {
            if (maxConnections < 0) throw new IllegalArgumentException("maxConnections must be >= 0");
            if (maxFrameBytes < 1) throw new IllegalArgumentException("maxFrameBytes must be >= 1");
        }
    }

    private static final System.Logger LOG = System.getLogger(MllpListener.class.getName());
    /** After a failed accept (say, out of file descriptors) wait this long before the next try. */
    private static final Duration ACCEPT_ERROR_BACKOFF = Duration.ofMillis(100);
    /** At most one "refused: over MAX_CONNECTIONS" line per this period; the counter keeps the rest. */
    private static final Duration REFUSAL_LOG_PERIOD = Duration.ofSeconds(10);
    /** The part of the drain timeout kept for force-closed connections to finish their cleanup. */
    private static final Duration FORCED_CLOSE_MARGIN = Duration.ofSeconds(1);

    /** How far past the frame reader's deadline the watchdog of a TLS read waits before it closes the connection. */
    private static final Duration READ_DEADLINE_SLACK = Duration.ofSeconds(1);
    private final String name;
    private final ServerSocket serverSocket;
    private final Limits limits;
    private final FrameHandler handler;
    private final ListenerStats stats;
    private final LongSupplier connectionIds;
    private final LongSupplier nanoClock;
    private final SocketUpgrade upgrade;
    private final Semaphore permits;
    private final Map<Long, Connection> connections = new ConcurrentHashMap<>();
    private final Object connectionsChanged = new Object();
    private final AtomicLong lastRefusalLogNanos = new AtomicLong(Long.MIN_VALUE);
    private volatile boolean draining;
    private Thread acceptThread;

    /**
     * @param serverSocket   bound already; this listener owns it
     * @param connectionIds  shared by every listener of the server, so ids are unique in the logs
     */
    public MllpListener(String name, ServerSocket serverSocket, Limits limits, FrameHandler handler,
                        ListenerStats stats, LongSupplier connectionIds, LongSupplier nanoClock) {
        this(name, serverSocket, limits, handler, stats, connectionIds, nanoClock, SocketUpgrade.PLAIN);
    }

    /** As above, with each accepted socket upgraded (TLS) on its connection's thread before frames are read. */
    public MllpListener(String name, ServerSocket serverSocket, Limits limits, FrameHandler handler,
                        ListenerStats stats, LongSupplier connectionIds, LongSupplier nanoClock, SocketUpgrade upgrade) {
        this.upgrade = upgrade;
        this.name = name;
        this.serverSocket = serverSocket;
        this.limits = limits;
        this.handler = handler;
        this.stats = stats;
        this.connectionIds = connectionIds;
        this.nanoClock = nanoClock;
        this.permits = new Semaphore(limits.maxConnections() == 0 ? Integer.MAX_VALUE : limits.maxConnections());
    }

    /** Starts the accept thread. */
    public synchronized void start() {
        if (acceptThread != null) throw new IllegalStateException("already started");
        acceptThread = Thread.ofPlatform().name("mllp-accept-" + name).start(this::acceptLoop);
        LOG.log(INFO, "{0} listener accepting on {1} (MAX_CONNECTIONS={2}, MAX_FRAME_SIZE={3} bytes)",
                name, serverSocket.getLocalSocketAddress(), String.valueOf(limits.maxConnections()),
                String.valueOf(limits.maxFrameBytes()));
    }

    /** The bound port; useful when the listen address asked for port 0. */
    public int port() {
        return serverSocket.getLocalPort();
    }

    public ListenerStats stats() {
        return stats;
    }

    /**
     * Stops accepting, closes idle connections, waits up to {@code timeout} for frames in flight
     * to be answered, then closes whatever is left. Returns the number of connections that had
     * to be force-closed.
     */
    public int drain(Duration timeout) throws InterruptedException {
        long deadline = nanoClock.getAsLong() + timeout.toNanos();
        long forceMargin = Math.min(FORCED_CLOSE_MARGIN.toNanos(), timeout.toNanos() / 10);
        draining = true;
        closeQuietly(serverSocket);
        if (acceptThread != null) acceptThread.join(Math.max(1, timeout.toMillis()));
        connections.values().forEach(Connection::closeIfWaitingForFrame);
        awaitNoConnections(deadline - forceMargin);
        int forced = connections.size();
        if (forced > 0) {
            LOG.log(WARNING, "{0} listener: {1} connection(s) still busy at the end of DRAIN_TIMEOUT; closing them", name, String.valueOf(forced));
            connections.values().forEach(Connection::forceClose);
            awaitNoConnections(deadline);
        }
        return forced;
    }

    private void awaitNoConnections(long deadlineNanos) throws InterruptedException {
        synchronized (connectionsChanged) {
            while (!connections.isEmpty()) {
                long remaining = deadlineNanos - nanoClock.getAsLong();
                if (remaining <= 0) return;
                TimeUnit.NANOSECONDS.timedWait(connectionsChanged, remaining);
            }
        }
    }

    private void acceptLoop() {
        while (!draining) {
            boolean permitted = permits.tryAcquire();
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                if (permitted) permits.release();
                if (draining || serverSocket.isClosed()) return;
                LOG.log(WARNING, "{0} listener: accept failed ({1}); retrying", name, e.toString());
                pause(ACCEPT_ERROR_BACKOFF);
                continue;
            }
            // A permit freed while we were blocked in accept() still counts for this connection.
            if (!permitted && !permits.tryAcquire()) {
                refuse(socket);
                continue;
            }
            startConnection(socket);
        }
    }

    /** Serves the socket on a new virtual thread; if that cannot start, the socket is closed and accepting goes on. */
    private void startConnection(Socket socket) {
        Connection connection = new Connection(connectionIds.getAsLong(), socket);
        stats.accepted.incrementAndGet();
        stats.open.incrementAndGet();
        connections.put(connection.id, connection);
        try {
            Thread.ofVirtual().name("mllp-conn-" + connection.id).start(connection::run);
        } catch (RuntimeException | OutOfMemoryError e) {
            connection.release();
            LOG.log(System.Logger.Level.ERROR, name + " listener: could not start a thread for " + connection.peer
                    + "; closed it and accepting goes on", e);
            pause(ACCEPT_ERROR_BACKOFF);
        }
    }

    private void refuse(Socket socket) {
        long refused = stats.refusedOverLimit.incrementAndGet();
        closeQuietly(socket);
        long now = nanoClock.getAsLong();
        long last = lastRefusalLogNanos.get();
        if ((last == Long.MIN_VALUE || now - last >= REFUSAL_LOG_PERIOD.toNanos()) && lastRefusalLogNanos.compareAndSet(last, now)) {
            LOG.log(WARNING, "{0} listener: refused a connection from {1}: MAX_CONNECTIONS={2} reached ({3} refused so far)",
                    name, socket.getRemoteSocketAddress(), String.valueOf(limits.maxConnections()), String.valueOf(refused));
        }
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.log(DEBUG, "close failed: {0}", e.toString());
        }
    }

    /**
     * One accepted socket and the loop that serves it.
     *
     * <p>Its state decides what a drain may do, changed by compare-and-set on both sides: IDLE
     * (waiting for the first byte of a frame, nothing buffered: a drain may close it), BUSY (a
     * frame has started, is being handled or answered, or bytes are buffered: a drain lets it
     * finish), CLOSING (the drain closed it while idle). The loop publishes IDLE before it checks
     * whether a drain began, and the drain sets its flag before it looks at the connections, so
     * one of the two always sees the other.
     */
    private final class Connection {
        private static final int BUSY = 0;
        private static final int IDLE = 1;
        private static final int CLOSING = 2;
        /** In the TLS handshake: nothing of the sender's is in flight, so a drain may close it. */
        private static final int HANDSHAKING = 3;

        private final long id;
        /** The accepted socket until the upgrade, then the upgraded one (an SSLSocket over it). */
        private volatile Socket socket;
        /**
         * The accepted TCP socket. Closing it ends the connection at once; closing a TLS socket may
         * first try to send close_notify, which blocks if the peer stopped reading. Every close
         * from another thread (watchdog, drain) uses this one.
         */
        private final Socket raw;
        private volatile Peer peer;
        private final long openedNanos;
        private final AtomicInteger state = new AtomicInteger(BUSY);
        private volatile FrameReader reader;
        private volatile String closedBecause;
        private long frames;
        private boolean junkLogged;

        Connection(long id, Socket socket) {
            this.id = id;
            this.socket = socket;
            this.raw = socket;
            this.peer = new Peer(id, socket.getRemoteSocketAddress());
            this.openedNanos = nanoClock.getAsLong();
        }

        void run() {
            String reason = "peer closed the connection";
            try {
                LOG.log(INFO, "{0} opened on {1} listener", peer, name);
                socket.setTcpNoDelay(true); // ACKs are small and a sender waits for each one
                socket.setKeepAlive(true);
                if (!upgrade()) {
                    reason = closedBecause;
                    return;
                }
                reason = serve();
            } catch (IOException e) {
                reason = closedBecause != null ? closedBecause : "I/O error: " + e.getMessage();
            } catch (RuntimeException e) {
                // The handler promises never to throw; if it does, that is a bug, not bad input.
                LOG.log(System.Logger.Level.ERROR, peer + ": frame handler failed; closing the connection", e);
                reason = "internal error";
            } finally {
                release();
                logClose(reason);
            }
        }

        /** Runs the listener's upgrade (a TLS handshake); false, with the reason, when the connection must close. */
        private boolean upgrade() {
            if (upgrade == SocketUpgrade.PLAIN) return true;
            if (!state.compareAndSet(BUSY, HANDSHAKING) || draining && state.compareAndSet(HANDSHAKING, CLOSING)) {
                closedBecause = "closed before its TLS handshake: server is shutting down";
                return false;
            }
            try {
                SocketUpgrade.Upgraded upgraded = upgrade.upgrade(socket);
                if (!state.compareAndSet(HANDSHAKING, BUSY)) { // the drain closed it meanwhile
                    closedBecause = "closed during its TLS handshake: server is shutting down";
                    return false;
                }
                socket = upgraded.socket();
                peer = new Peer(id, peer.remoteAddress(), upgraded.identity());
                if (!upgraded.identity().isEmpty()) LOG.log(INFO, "{0}: client certificate {1}", peer, upgraded.identity());
                return true;
            } catch (IOException | RuntimeException e) {
                stats.handshakeFailures.incrementAndGet();
                closedBecause = closedBecause != null ? closedBecause : "TLS handshake failed: " + e.getMessage();
                return false;
            }
        }

        private String serve() throws IOException {
            var in = socket.getInputStream();
            var out = socket.getOutputStream();
            boolean upgraded = upgrade != SocketUpgrade.PLAIN;
            FrameReader frames = new FrameReader((buffer, offset, length, timeout) -> {
                socket.setSoTimeout(timeoutMillis(timeout));
                return upgraded ? readBefore(in, buffer, offset, length, timeout) : in.read(buffer, offset, length);
            }, limits.maxFrameBytes(), limits.idleTimeout(), limits.frameTimeout(), nanoClock, () -> state.set(BUSY));
            this.reader = frames;
            while (true) {
                if (!frames.holdsFrameData()) {
                    state.set(IDLE);
                    if (draining && state.compareAndSet(IDLE, CLOSING)) return "closed while idle: server is shutting down";
                }
                FrameReader.Result result = frames.next();
                state.set(BUSY);
                logJunkOnce(frames);
                switch (result) {
                    case FrameReader.Frame frame -> {
                        this.frames++;
                        stats.frames.incrementAndGet();
                        reply(out, handler.onFrame(frame.payload(), peer));
                        if (draining && !frames.holdsFrameData()) return "server is shutting down";
                    }
                    case FrameReader.EndOfStream end -> {
                        return end.partialFrameBytes() == 0 ? "peer closed the connection"
                                : "peer closed in the middle of a frame (" + end.partialFrameBytes() + " bytes discarded)";
                    }
                    case FrameReader.TooLarge tooLarge -> {
                        stats.oversizeFrames.incrementAndGet();
                        reply(out, handler.onOversizeFrame(tooLarge.head(), peer));
                        return "frame larger than MAX_FRAME_SIZE (" + tooLarge.maxFrameBytes() + " bytes)";
                    }
                    case FrameReader.TimedOut timedOut -> {
                        if (timedOut.inFrame()) {
                            stats.frameTimeouts.incrementAndGet();
                            return "frame not completed within FRAME_TIMEOUT (" + limits.frameTimeout().toMillis()
                                    + " ms; " + timedOut.partialFrameBytes() + " bytes discarded)";
                        }
                        stats.idleTimeouts.incrementAndGet();
                        return "no frame started within IDLE_TIMEOUT (" + limits.idleTimeout().toMillis() + " ms)";
                    }
                }
            }
        }

        /**
         * A read on a TLS socket returns only when a whole TLS record is in, and each byte of it
         * starts the socket timeout again: a sender trickling bytes would never meet IDLE_TIMEOUT or
         * FRAME_TIMEOUT. A watchdog closes the socket when the time the frame reader allows is up.
         */
        private int readBefore(java.io.InputStream in, byte[] buffer, int offset, int length, Duration timeout) throws IOException {
            // With slack: the socket timeout normally ends the read (and is counted as an idle or frame
            // timeout); the watchdog only catches a sender trickling bytes.
            java.util.concurrent.ScheduledFuture<?> watchdog = Deadlines.after(timeout.toMillis() + READ_DEADLINE_SLACK.toMillis(), () -> {
                closedBecause = "no MLLP data within IDLE_TIMEOUT/FRAME_TIMEOUT (" + timeout.toMillis() + " ms) on a TLS connection";
                closeQuietly(raw);
            });
            try {
                return in.read(buffer, offset, length);
            } finally {
                watchdog.cancel(false);
            }
        }

        private void reply(java.io.OutputStream out, java.util.Optional<byte[]> payload) throws IOException {
            if (payload.isEmpty()) return;
            out.write(FrameReader.frame(payload.get()));
            out.flush();
        }

        private void logJunkOnce(FrameReader frames) {
            if (junkLogged || frames.junkBytes() == 0) return;
            junkLogged = true;
            LOG.log(WARNING, "{0}: discarded {1} byte(s) outside MLLP frames (before a 0x0B start block);"
                    + " further junk on this connection is only counted", peer, String.valueOf(frames.junkBytes()));
        }

        /** Drain: a connection waiting for a frame that has not started, or still in its TLS handshake, is closed now. */
        void closeIfWaitingForFrame() {
            if (state.compareAndSet(IDLE, CLOSING)) {
                closedBecause = "closed while idle: server is shutting down";
                closeQuietly(raw);
            } else if (state.compareAndSet(HANDSHAKING, CLOSING)) {
                closedBecause = "closed during its TLS handshake: server is shutting down";
                closeQuietly(raw);
            }
        }

        void forceClose() {
            closedBecause = "closed at the end of DRAIN_TIMEOUT: server is shutting down";
            closeQuietly(raw); // never blocks on a TLS close_notify to a peer that stopped reading
        }

        /** The single cleanup path: socket, permit, bookkeeping. Idempotent. */
        void release() {
            if (connections.remove(id) == null) return;
            closeQuietly(raw); // first: a TLS close_notify to a peer that stopped reading must not block the cleanup
            if (socket != raw) closeQuietly(socket);
            permits.release();
            stats.open.decrementAndGet();
            FrameReader current = reader;
            if (current != null) stats.junkBytes.addAndGet(current.junkBytes());
            synchronized (connectionsChanged) {
                connectionsChanged.notifyAll();
            }
        }

        private void logClose(String reason) {
            FrameReader current = reader;
            long junk = current == null ? 0 : current.junkBytes();
            Duration open = Duration.ofNanos(nanoClock.getAsLong() - openedNanos);
            LOG.log(INFO, "{0} closed: {1} ({2} frame(s), {3} junk byte(s) discarded, open {4} ms)",
                    peer, reason, String.valueOf(frames), String.valueOf(junk), String.valueOf(open.toMillis()));
        }
    }

    private static int timeoutMillis(Duration timeout) {
        long millis = (timeout.toNanos() + 999_999) / 1_000_000;
        return (int) Math.clamp(millis, 1, Integer.MAX_VALUE);
    }
}
