package org.mllpserver.testing;

import org.mllpserver.app.Server;
import org.mllpserver.config.ConfigLoader;
import org.mllpserver.mllp.MllpClient;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** A real server in this JVM on a loopback port chosen by the system; closing it drains it. */
public final class TestServer implements AutoCloseable {

    public static final Duration REPLY_TIMEOUT = Duration.ofSeconds(10);

    private final Server server;

    private TestServer(Server server) {
        this.server = server;
    }

    /** Starts with the defaults, loopback port 0, and the given overrides (variable, value, ...). */
    public static TestServer start(String... overrides) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("LISTEN_ADDR", "127.0.0.1:0");
        env.put("DRAIN_TIMEOUT", "5s");
        for (int i = 0; i < overrides.length; i += 2) env.put(overrides[i], overrides[i + 1]);
        return new TestServer(Server.start(ConfigLoader.load(env), Clock.systemUTC()));
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

    @Override
    public void close() throws InterruptedException {
        server.stop();
    }
}
