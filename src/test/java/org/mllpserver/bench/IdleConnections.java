package org.mllpserver.bench;

import org.mllpserver.mllp.MllpClient;
import org.mllpserver.tls.TlsClient;

import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Opens N connections to an MLLP server, sends one ordinary message on each (so each holds what a
 * connection that has served holds), prints "open N" and keeps them idle until its input closes.
 * For measuring the server's heap per connection (bench/run-connection-memory.sh).
 *
 * <pre>java ... org.mllpserver.bench.IdleConnections --to 127.0.0.1:2575 --connections 4000 [--tls-ca ca.pem]</pre>
 */
public final class IdleConnections {

    public static void main(String[] args) throws Exception {
        String to = "127.0.0.1:2575";
        int count = 1000;
        Optional<Path> ca = Optional.empty();
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--to" -> to = args[i + 1];
                case "--connections" -> count = Integer.parseInt(args[i + 1]);
                case "--tls-ca" -> ca = Optional.of(Path.of(args[i + 1]));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String host = to.substring(0, to.lastIndexOf(':'));
        int port = Integer.parseInt(to.substring(to.lastIndexOf(':') + 1));
        SSLContext tls = ca.isPresent() ? TlsClient.context(ca, Optional.empty(), Optional.empty()) : null;
        List<MllpClient> clients = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            MllpClient client = tls == null
                    ? MllpClient.connect(new InetSocketAddress(host, port), Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 16)
                    : MllpClient.over(TlsClient.connect(tls, host, port, Duration.ofSeconds(5), Duration.ofSeconds(10)), Duration.ofSeconds(30), 1 << 16);
            clients.add(client);
            client.exchange(("MSH|^~\\&|IDLE|IDLE|MLLP|SERVER|20260101120000||ADT^A08^ADT_A01|IDLE-" + i + "|P|2.5\rPID|1||" + i + "\r")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        System.out.println("open " + count);
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold the connections until the script closes our input
        }
        for (MllpClient c : clients) c.close();
    }
}
