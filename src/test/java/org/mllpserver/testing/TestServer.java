package org.mllpserver.testing;

import org.mllpserver.app.Server;
import org.mllpserver.config.ConfigLoader;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.mllp.MllpClient;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** A real server in this JVM on a loopback port chosen by the system; closing it drains it. */
public final class TestServer implements AutoCloseable {

    public static final Duration REPLY_TIMEOUT = Duration.ofSeconds(10);

    private final Server server;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private boolean stopped;

    private TestServer(Server server, Path dataDir, boolean ownsDataDir) {
        this.server = server;
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
    }

    /**
     * Starts with the defaults, loopback port 0, a fresh temporary DATA_DIR (removed on close),
     * and the given overrides (variable, value, ...).
     */
    public static TestServer start(String... overrides) throws Exception {
        return start(ChannelFactory.DEFAULT, overrides);
    }

    public static TestServer start(ChannelFactory channels, String... overrides) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("LISTEN_ADDR", "127.0.0.1:0");
        env.put("DRAIN_TIMEOUT", "5s");
        env.put("ADMIN_ADDR", "127.0.0.1:0");
        for (int i = 0; i < overrides.length; i += 2) env.put(overrides[i], overrides[i + 1]);
        boolean ownsDataDir = !env.containsKey("DATA_DIR");
        if (ownsDataDir) env.put("DATA_DIR", Files.createTempDirectory("mllp-test-").toString());
        Path dataDir = Path.of(env.get("DATA_DIR"));
        return new TestServer(Server.start(ConfigLoader.load(env), Clock.systemUTC(), channels), dataDir, ownsDataDir);
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path journalDir() {
        return dataDir.toAbsolutePath().normalize().resolve("journal");
    }

    public Server server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    public MllpClient connect() throws IOException {
        return connect(REPLY_TIMEOUT);
    }

    public MllpClient connect(Duration replyTimeout) throws IOException {
        return MllpClient.connect(new InetSocketAddress("127.0.0.1", port()), Duration.ofSeconds(5), replyTimeout, 1 << 20);
    }

    /** Stops the server (once) and leaves DATA_DIR in place, e.g. to read the journal or restart on it. */
    public synchronized void stop() throws InterruptedException {
        if (stopped) return;
        stopped = true;
        server.stop();
    }

    /** Stops the server; removes DATA_DIR when this class created it. */
    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsDataDir) deleteRecursively(dataDir);
    }

    public static void deleteRecursively(Path root) {
        if (!Files.exists(root)) return;
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
