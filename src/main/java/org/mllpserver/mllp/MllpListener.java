package org.mllpserver.mllp;

import org.mllpserver.events.Events;

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

    /**
     * What every listener of a process shares.
     *
     * @param connectionIds unique across listeners, so ids are unique in the logs
     * @param frames        the bytes all connections together may hold in frames (MAX_INFLIGHT_BYTES)
     * @param ceiling       the connections the process may hold at once, over every listener
     */
    public record Shared(LongSupplier connectionIds, LongSupplier nanoClock, FrameBudget frames, ConnectionCeiling ceiling, Events events) {
        /** No process-wide bounds, nobody listening: one listener in a test. */
        public static Shared unbounded(LongSupplier connectionIds, LongSupplier nanoClock) {
            return new Shared(connectionIds, nanoClock, new FrameBudget(Long.MAX_VALUE, nanoClock), ConnectionCeiling.none(), Events.NONE);
        }
    }

    /**
     * Heap a plain connection costs, counted by the {@link ConnectionCeiling}: its 16 KiB read
     * buffer, a small frame's payload, its virtual thread's stack and the socket's objects
     * (measured: see BENCHMARKS.md, "memory per connection").
     */
    public static final long PLAIN_CONNECTION_BYTES = 32 * 1024;
    /** A TLS connection also holds its SSLEngine, session and record buffers (measured: 36 KiB idle; BENCHMARKS.md). */
    public static final long TLS_CONNECTION_BYTES = 64 * 1024;

    private static final System.Logger LOG = System.getLogger(MllpListener.class.getName());
    /** After a failed accept (say, out of file descriptors) wait this long before the next try... */
    private static final Duration ACCEPT_ERROR_BACKOFF = Duration.ofMillis(100);
    /** ...doubling while it keeps failing, up to this. */
    private static final Duration ACCEPT_ERROR_BACKOFF_MAX = Duration.ofSeconds(2);
    /** How often connections are looked at for answers their peers have not read within IDLE_TIMEOUT. */
    private static final Duration WRITE_SWEEP_PERIOD = Duration.ofSeconds(1);
    /** Accepting that has failed this long is reported by {@link #acceptProblem()}. */
    static final Duration STUCK_AFTER = Duration.ofSeconds(30);
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
    private final FrameBudget frameBudget;
    private final ConnectionCeiling ceiling;
    private final Events events;
    private final SocketUpgrade upgrade;
    private final Semaphore permits;
    private final Map<Long, Connection> connections = new ConcurrentHashMap<>();
    private final Object connectionsChanged = new Object();
    private final AtomicLong lastRefusalLogNanos = new AtomicLong(Long.MIN_VALUE);
    private final long connectionBytes;
    private volatile boolean draining;
    private volatile Thread acceptThread;
    private java.util.concurrent.ScheduledFuture<?> writeSweep;
    /** When the current run of failed accepts began; 0 while accepting works. */
    private volatile long failingSinceNanos;

    /**
     * @param serverSocket   bound already; this listener owns it
     * @param connectionIds  shared by every listener of the server, so ids are unique in the logs
     */
    public MllpListener(String name, ServerSocket serverSocket, Limits limits, FrameHandler handler,
                        ListenerStats stats, LongSupplier connectionIds, LongSupplier nanoClock) {
        this(name, serverSocket, limits, handler, stats, Shared.unbounded(connectionIds, nanoClock), SocketUpgrade.PLAIN);
    }

    /** As above, bounded by what the process's listeners share, with each accepted socket upgraded (TLS) before frames are read. */
    public MllpListener(String name, ServerSocket serverSocket, Limits limits, FrameHandler handler,
                        ListenerStats stats, Shared shared, SocketUpgrade upgrade) {
        this.upgrade = upgrade;
        this.name = name;
        this.serverSocket = serverSocket;
        this.limits = limits;
        this.handler = handler;
        this.stats = stats;
        this.connectionIds = shared.connectionIds();
        this.nanoClock = shared.nanoClock();
        this.frameBudget = shared.frames();
        this.ceiling = shared.ceiling();
        this.events = shared.events();
        this.connectionBytes = upgrade == SocketUpgrade.PLAIN ? PLAIN_CONNECTION_BYTES : TLS_CONNECTION_BYTES;
        this.permits = new Semaphore(limits.maxConnections() == 0 ? Integer.MAX_VALUE : limits.maxConnections());
    }

    /** Starts the accept thread, and the sweep that closes connections whose peer stopped reading its answers. */
    public synchronized void start() {
        if (acceptThread != null) throw new IllegalStateException("already started");
        acceptThread = Thread.ofPlatform().name("mllp-accept-" + name).start(this::acceptLoop);
        writeSweep = Deadlines.every(WRITE_SWEEP_PERIOD.toMillis(), () -> {
            long now = nanoClock.getAsLong();
            connections.values().forEach(c -> c.closeIfWriteStuck(now));
        });
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

    /** plain or tls. */
    public String name() {
        return name;
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
        synchronized (this) {
            if (writeSweep != null) writeSweep.cancel(false);
        }
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

    /**
     * Accepts until the drain. Nothing ends this loop but the drain: an I/O error (out of file
     * descriptors) or an {@link Error} (out of memory, a stack overflow) is logged and accepting
     * goes on after a pause that doubles up to {@link #ACCEPT_ERROR_BACKOFF_MAX}. A listener that
     * keeps failing shows in {@link #acceptProblem()}, which liveness reads.
     */
    private void acceptLoop() {
        Duration backoff = ACCEPT_ERROR_BACKOFF;
        while (!draining) {
            try {
                acceptOne();
                failingSinceNanos = 0;
                backoff = ACCEPT_ERROR_BACKOFF;
            } catch (Throwable e) { // an Error too: the loop that lets senders in must outlive whatever one accept met
                if (draining || serverSocket.isClosed()) break;
                if (failingSinceNanos == 0) failingSinceNanos = nanoClock.getAsLong();
                logAcceptFailure(e, backoff);
                pause(backoff);
                backoff = backoff.multipliedBy(2).compareTo(ACCEPT_ERROR_BACKOFF_MAX) > 0 ? ACCEPT_ERROR_BACKOFF_MAX : backoff.multipliedBy(2);
            }
        }
    }

    /** One accept: the permit is taken before it, and handed to the connection or given back, whatever happens. */
    private void acceptOne() throws IOException {
        boolean permitted = permits.tryAcquire();
        Socket socket;
        try {
            socket = serverSocket.accept();
        } catch (Throwable e) {
            if (permitted) permits.release();
            throw e;
        }
        boolean handedOver = false;
        try {
            // A permit freed while we were blocked in accept() still counts for this connection.
            if (!permitted) permitted = permits.tryAcquire();
            if (!permitted) {
                refuse(socket, stats.refusedOverLimit, "MAX_CONNECTIONS=" + limits.maxConnections() + " reached");
                return;
            }
            Connection connection = new Connection(connectionIds.getAsLong(), socket);
            if (!ceiling.admit(connection, connectionBytes)) {
                connection.memory.close();
                refuse(socket, stats.refusedAtCeiling, "the server's connection ceiling (" + ceiling.maxConnections()
                        + " connections or " + ceiling.maxBytes() + " bytes of heap) reached, and no connection idle for 1 s to close");
                return;
            }
            handedOver = true; // from here on the connection's release() gives back the socket, the permit and its place
            startConnection(connection);
        } finally {
            if (!handedOver) {
                closeQuietly(socket);
                if (permitted) permits.release();
            }
        }
    }

    private void logAcceptFailure(Throwable e, Duration backoff) {
        try {
            LOG.log(e instanceof Error ? System.Logger.Level.ERROR : WARNING,
                    "{0} listener: accept failed ({1}); accepting again in {2} ms", name, e.toString(), String.valueOf(backoff.toMillis()));
        } catch (Throwable logFailed) {
            // Out of memory even for a log line: the pause and the next accept matter more than the line.
        }
    }

    /** Serves the connection on a new virtual thread; if that cannot start, the connection is closed and released. */
    private void startConnection(Connection connection) {
        stats.accepted.incrementAndGet();
        stats.open.incrementAndGet();
        events.connectionOpened(name, Events.ConnectionOutcome.ACCEPTED);
        connections.put(connection.id, connection);
        try {
            Thread.ofVirtual().name("mllp-conn-" + connection.id).start(connection::run);
        } catch (Throwable e) { // out of memory for a thread: this connection is closed, accepting goes on
            connection.release();
            throw e;
        }
    }

    /** Closes a connection the listener cannot take; one log line per {@link #REFUSAL_LOG_PERIOD}, the counters keep the rest. */
    private void refuse(Socket socket, AtomicLong counter, String why) {
        long refused = counter.incrementAndGet();
        events.connectionOpened(name, Events.ConnectionOutcome.OVER_LIMIT);
        closeQuietly(socket);
        long now = nanoClock.getAsLong();
        long last = lastRefusalLogNanos.get();
        if ((last == Long.MIN_VALUE || now - last >= REFUSAL_LOG_PERIOD.toNanos()) && lastRefusalLogNanos.compareAndSet(last, now)) {
            LOG.log(WARNING, "{0} listener: refused a connection from {1}: {2} ({3} refused so far for this reason)",
                    name, socket.getRemoteSocketAddress(), why, String.valueOf(refused));
        }
    }

    /**
     * Why this listener is not accepting connections as it should, if it is not: its accept
     * thread ended, or accepting has failed for {@link #STUCK_AFTER} on end. Empty while it
     * accepts, and during a drain. Read by liveness.
     */
    public java.util.Optional<String> acceptProblem() {
        if (draining) return java.util.Optional.empty();
        Thread thread = acceptThread;
        if (thread == null) return java.util.Optional.of(name + " listener: not started");
        if (!thread.isAlive()) return java.util.Optional.of(name + " listener: its accept thread has ended");
        long failing = failingSinceNanos;
        if (failing != 0 && nanoClock.getAsLong() - failing > STUCK_AFTER.toNanos()) {
            return java.util.Optional.of(name + " listener: accepting has failed for over " + STUCK_AFTER.toSeconds() + " s");
        }
        return java.util.Optional.empty();
    }

    /** True when the accept thread ended without a drain: this listener cannot go on. */
    public boolean acceptThreadEnded() {
        Thread thread = acceptThread;
        return !draining && thread != null && !thread.isAlive();
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
    private final class Connection implements ConnectionCeiling.Member {
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
        private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile FrameReader reader;
        /** This connection's share of the process's frame memory; made and closed on its own thread. */
        private final FrameBudget.Holder memory;
        /** When it last began to wait for a frame with nothing in flight (meaningful while IDLE). */
        private volatile long idleSinceNanos;
        /** When its current frame started; MAX_VALUE while it is not in an unfinished frame. */
        private volatile long frameStartedNanos = Long.MAX_VALUE;
        /** When the answer being written began; 0 while none is. */
        private volatile long writingSinceNanos;
        private volatile String closedBecause;
        private long frames;
        private boolean junkLogged;

        Connection(long id, Socket socket) {
            this.id = id;
            this.socket = socket;
            this.raw = socket;
            this.peer = new Peer(id, socket.getRemoteSocketAddress());
            this.openedNanos = nanoClock.getAsLong();
            this.memory = frameBudget.holder(this::wakeToGiveWay);
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
                events.tlsHandshake(name, true);
                peer = new Peer(id, peer.remoteAddress(), upgraded.identity());
                if (!upgraded.identity().isEmpty()) LOG.log(INFO, "{0}: client certificate {1}", peer, upgraded.identity());
                return true;
            } catch (IOException | RuntimeException e) {
                stats.handshakeFailures.incrementAndGet();
                events.tlsHandshake(name, false);
                events.connectionOpened(name, Events.ConnectionOutcome.TLS_FAILED);
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
            }, limits.maxFrameBytes(), limits.idleTimeout(), limits.frameTimeout(), nanoClock, this::frameStarted, memory);
            this.reader = frames;
            while (true) {
                if (!frames.holdsFrameData()) {
                    idleSinceNanos = nanoClock.getAsLong();
                    state.set(IDLE);
                    if (draining && state.compareAndSet(IDLE, CLOSING)) return "closed while idle: server is shutting down";
                }
                FrameReader.Result result = frames.next();
                state.set(BUSY);
                frameStartedNanos = Long.MAX_VALUE; // whole, or over: not stalled in it any more
                logJunkOnce(frames);
                switch (result) {
                    case FrameReader.Frame frame -> {
                        long complete = System.nanoTime();
                        this.frames++;
                        stats.frames.incrementAndGet();
                        reply(out, handler.onFrame(frame.payload(), peer));
                        events.ackWritten(name, System.nanoTime() - complete);
                        if (draining && !frames.holdsFrameData()) return "server is shutting down";
                    }
                    case FrameReader.EndOfStream end -> {
                        return end.partialFrameBytes() == 0 ? "peer closed the connection"
                                : "peer closed in the middle of a frame (" + end.partialFrameBytes() + " bytes discarded)";
                    }
                    case FrameReader.TooLarge tooLarge -> {
                        stats.oversizeFrames.incrementAndGet();
                        reply(out, handler.onUnheldFrame(tooLarge, peer));
                        return "frame larger than MAX_FRAME_SIZE (" + tooLarge.maxFrameBytes() + " bytes)";
                    }
                    case FrameReader.OverBudget over -> {
                        if (closedBecause != null) return closedBecause; // the drain closed it while it waited for room
                        stats.overBudgetFrames.incrementAndGet();
                        reply(out, handler.onUnheldFrame(over, peer));
                        return overBudgetReason(over);
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

        private String overBudgetReason(FrameReader.OverBudget over) {
            return switch (over.why()) {
                case TIMED_OUT -> "frame could not be held within FRAME_TIMEOUT: the memory for frames in flight (MAX_INFLIGHT_BYTES="
                        + frameBudget.capacity() + " bytes) stayed in use (" + over.receivedBytes() + " bytes received)";
                case GAVE_WAY -> "unfinished frame (" + over.receivedBytes() + " bytes) given up to make room for smaller frames:"
                        + " the memory for frames in flight (MAX_INFLIGHT_BYTES=" + frameBudget.capacity() + " bytes) was in use";
                case NEVER_FITS -> "frame larger than the memory for frames in flight (MAX_INFLIGHT_BYTES=" + frameBudget.capacity() + " bytes)";
                case GRANTED -> throw new IllegalStateException("a granted reservation is not a refusal");
            };
        }

        private void frameStarted() {
            state.set(BUSY);
            frameStartedNanos = nanoClock.getAsLong();
        }

        /**
         * The budget asks this connection to give way: one in an unfinished frame has its blocked
         * read ended (it gives the frame up and its answer still goes out); one whose answer its
         * peer has not taken is closed.
         */
        private void wakeToGiveWay() {
            if (writingSinceNanos != 0) {
                closedBecause = "closed to make room: its answer had not been read for a second while the memory for frames"
                        + " in flight (MAX_INFLIGHT_BYTES) was full";
                closeQuietly(raw);
                return;
            }
            try {
                raw.shutdownInput();
            } catch (IOException e) {
                LOG.log(DEBUG, "{0}: shutting input down failed: {1}", peer, e.toString());
            }
        }

        @Override
        public long idleSinceNanos() {
            return state.get() == IDLE ? idleSinceNanos : Long.MAX_VALUE;
        }

        @Override
        public long stalledSinceNanos() {
            int now = state.get();
            if (now == HANDSHAKING) return openedNanos;
            return now == BUSY ? frameStartedNanos : Long.MAX_VALUE;
        }

        @Override
        public java.net.InetAddress remoteAddress() {
            return raw.getInetAddress();
        }

        @Override
        public boolean closeToMakeRoom(String why) {
            boolean idle = state.compareAndSet(IDLE, CLOSING);
            if (!idle && stalledSinceNanos() == Long.MAX_VALUE) return false; // it moved on: a frame to handle or answer
            closedBecause = why;
            closeQuietly(raw);
            memory.interrupt(); // it may be waiting for frame memory
            return true;
        }

        /**
         * The answer's write has gone on longer than IDLE_TIMEOUT (its peer does not read): close the
         * connection, so that a peer that stops reading cannot hold it, and its frame's bytes, for good.
         */
        void closeIfWriteStuck(long nowNanos) {
            long since = writingSinceNanos;
            if (since == 0 || nowNanos - since <= limits.idleTimeout().toNanos()) return;
            closedBecause = "its answer was not read within IDLE_TIMEOUT (" + limits.idleTimeout().toMillis() + " ms)";
            closeQuietly(raw);
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

        /**
         * Writes the answer. While it is written the frame's bytes stay reserved and are marked as
         * an answer being written: a peer that does not read it for a second, while frame memory is
         * full, may be asked to give way, and after IDLE_TIMEOUT the connection is closed (the sweep).
         */
        private void reply(java.io.OutputStream out, java.util.Optional<byte[]> payload) throws IOException {
            if (payload.isEmpty()) return;
            memory.replying();
            writingSinceNanos = nanoClock.getAsLong() | 1; // never 0, which means "not writing"
            try {
                out.write(FrameReader.frame(payload.get()));
                out.flush();
            } finally {
                writingSinceNanos = 0;
                memory.replied();
            }
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
            memory.interrupt(); // a connection waiting for frame memory is not in a read the close would end
        }

        /** The single cleanup path: socket, permit, bookkeeping. Idempotent. */
        void release() {
            if (!released.compareAndSet(false, true)) return;
            closeQuietly(raw); // first: a TLS close_notify to a peer that stopped reading must not block the cleanup
            if (socket != raw) closeQuietly(socket);
            permits.release();
            ceiling.leave(this);
            memory.close();
            stats.open.decrementAndGet();
            events.connectionClosed(name);
            FrameReader current = reader;
            if (current != null) stats.junkBytes.addAndGet(current.junkBytes());
            connections.remove(id); // last: whoever waits for the connections to go finds everything given back
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
