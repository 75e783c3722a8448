package org.mllpserver.app;

import org.mllpserver.config.ServerConfig;
import org.mllpserver.hl7.AckWriter;
import org.mllpserver.hl7.ControlIds;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.intake.Intake;
import org.mllpserver.intake.IntakeStats;
import org.mllpserver.mllp.ListenerStats;
import org.mllpserver.mllp.MllpListener;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.System.Logger.Level.INFO;

/**
 * The composition root: builds every part from the configuration, starts them in dependency
 * order (reader, intake, then the listener that feeds them) and stops them in reverse.
 */
public final class Server {

    private static final System.Logger LOG = System.getLogger(Server.class.getName());
    /** Pending connections the kernel may queue while the accept thread is busy. */
    private static final int ACCEPT_BACKLOG = 128;
    /** Parsed once at start so the first real message does not pay for HAPI's class loading. */
    private static final byte[] WARM_UP_MESSAGE = ("MSH|^~\\&|WARMUP|WARMUP|MLLP|SERVER|20260101000000||ADT^A01^ADT_A01|WARMUP|P|2.5\r"
            + "EVN|A01|20260101000000\rPID|1||1^^^WARMUP||WARMUP^WARMUP\rPV1|1|N\r").getBytes(StandardCharsets.US_ASCII);

    private final ServerConfig config;
    private final MllpListener listener;
    private final IntakeStats intakeStats;

    private Server(ServerConfig config, MllpListener listener, IntakeStats intakeStats) {
        this.config = config;
        this.listener = listener;
        this.intakeStats = intakeStats;
    }

    /** Builds and starts the server; returns once the listener accepts connections. */
    public static Server start(ServerConfig config, Clock clock) throws IOException {
        MessageReader reader = new MessageReader(config.reader());
        if (!(reader.read(WARM_UP_MESSAGE) instanceof MessageReader.Parsed)) {
            throw new IllegalStateException("the built-in warm-up message did not parse");
        }
        AckWriter acks = new AckWriter(config.acks(), new ControlIds(new SecureRandom()), clock);
        IntakeStats intakeStats = new IntakeStats();
        Intake intake = new Intake(reader, acks, config.intake(), intakeStats);
        ServerSocket socket = new ServerSocket();
        try {
            socket.setReuseAddress(true);
            socket.bind(config.listenAddress().toSocketAddress(), ACCEPT_BACKLOG);
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot listen on LISTEN_ADDR=" + config.listenAddress() + ": " + e.getMessage(), e);
        }
        AtomicLong connectionIds = new AtomicLong();
        MllpListener listener = new MllpListener("plain", socket, config.limits(), intake, new ListenerStats(),
                connectionIds::incrementAndGet, System::nanoTime);
        listener.start();
        return new Server(config, listener, intakeStats);
    }

    /** The port the MLLP listener is bound to (useful with port 0). */
    public int port() {
        return listener.port();
    }

    public ListenerStats listenerStats() {
        return listener.stats();
    }

    public IntakeStats intakeStats() {
        return intakeStats;
    }

    /** Stops accepting and drains: frames in flight are answered within DRAIN_TIMEOUT. */
    public void stop() throws InterruptedException {
        Duration timeout = config.drainTimeout();
        LOG.log(INFO, "shutting down: {0} connection(s) open, DRAIN_TIMEOUT={1} ms",
                String.valueOf(listener.stats().open()), String.valueOf(timeout.toMillis()));
        int forced = listener.drain(timeout);
        LOG.log(INFO, "stopped ({0} connection(s) had to be closed at the end of the drain)", String.valueOf(forced));
    }
}
