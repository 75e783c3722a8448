package org.mllpserver.bench;

import org.mllpserver.mllp.MllpClient;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Load for an MLLP server the way real senders load one: C connections, each stop-and-wait (send,
 * wait for the ACK, send the next), every message with a unique MSH-10, every ACK's MSA-2
 * checked. Prints messages per second and ACK latency percentiles (measured after a warm-up).
 *
 * <pre>java ... org.mllpserver.bench.LoadGenerator --to 127.0.0.1:2575 --connections 16 --seconds 10 --file oru.hl7</pre>
 */
public final class LoadGenerator {

    record Options(InetSocketAddress to, int connections, Duration warmup, Duration measure, Path file) {}

    record Result(long messages, double seconds, long[] latenciesNanos, long failures) {
        double perSecond() {
            return messages / seconds;
        }

        double percentileMillis(double p) {
            if (latenciesNanos.length == 0) return Double.NaN;
            int index = (int) Math.min(latenciesNanos.length - 1, Math.ceil(p / 100.0 * latenciesNanos.length) - 1);
            return latenciesNanos[Math.max(0, index)] / 1e6;
        }

        String summary(int connections) {
            return String.format("connections=%d messages=%d msgs/s=%.0f p50=%.3fms p99=%.3fms p999=%.3fms max=%.3fms failures=%d",
                    connections, messages, perSecond(), percentileMillis(50), percentileMillis(99), percentileMillis(99.9),
                    percentileMillis(100), failures);
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = parse(args);
        Result result = run(options);
        System.out.println(result.summary(options.connections()));
        if (result.failures() > 0) System.exit(1);
    }

    static Result run(Options options) throws Exception {
        String text = Files.readString(options.file(), StandardCharsets.ISO_8859_1).replace("\r\n", "\r").replace('\n', '\r');
        String controlId = text.split("\r")[0].split("\\|", -1)[9];
        // The message once, with a fixed-width MSH-10 that each sender overwrites with its own digits.
        String slot = "0".repeat(ID_WIDTH);
        byte[] template = text.replaceFirst("\\|" + java.util.regex.Pattern.quote(controlId) + "\\|", "|" + slot + "|")
                .getBytes(StandardCharsets.ISO_8859_1);
        int idOffset = text.indexOf("|" + controlId + "|") + 1;
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        CyclicBarrier ready = new CyclicBarrier(options.connections() + 1);
        List<Future<long[]>> workers = new ArrayList<>();
        long[] failures = new long[options.connections()];
        // Platform threads: a blocking read is one system call, where a virtual thread's read adds a
        // failed read, a poller registration and a wake-up. The generator shares the machine with the
        // server under test, so it should cost as little CPU as it can.
        try (var pool = Executors.newFixedThreadPool(options.connections())) {
            for (int c = 0; c < options.connections(); c++) {
                int connection = c;
                workers.add(pool.submit(() -> sender(options, template, idOffset, connection, ready, measuring, stop, failures)));
            }
            ready.await();
            Thread.sleep(options.warmup()); // a benchmark's warm-up phase, not synchronisation
            measuring.set(true);
            long started = System.nanoTime();
            Thread.sleep(options.measure());
            measuring.set(false);
            double seconds = (System.nanoTime() - started) / 1e9;
            stop.set(true);
            List<long[]> all = new ArrayList<>();
            for (Future<long[]> w : workers) all.add(w.get());
            long[] latencies = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            return new Result(latencies.length, seconds, latencies, Arrays.stream(failures).sum());
        }
    }

    /** MSH-10 of a generated message: 6 digits of run, 3 of connection, 9 of sequence (within MSH-10's 20). */
    static final int ID_WIDTH = 18;

    private static long[] sender(Options options, byte[] template, int idOffset, int connection, CyclicBarrier ready,
                                 AtomicBoolean measuring, AtomicBoolean stop, long[] failures) throws Exception {
        long[] latencies = new long[1 << 16];
        int count = 0;
        long run = System.currentTimeMillis() % 1_000_000L;
        byte[] message = template.clone();
        try (MllpClient client = MllpClient.connect(options.to(), Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 20)) {
            ready.await();
            for (long seq = 0; !stop.get(); seq++) {
                writeDigits(message, idOffset, 6, run);
                writeDigits(message, idOffset + 6, 3, connection);
                writeDigits(message, idOffset + 9, 9, seq);
                long sent = System.nanoTime();
                byte[] reply = client.exchange(message);
                long latency = System.nanoTime() - sent;
                if (!acknowledges(reply, message, idOffset)) {
                    failures[connection]++;
                    continue;
                }
                if (!measuring.get()) continue;
                if (count == latencies.length) latencies = Arrays.copyOf(latencies, count * 2);
                latencies[count++] = latency;
            }
        } catch (IOException e) {
            failures[connection]++;
            System.err.println("connection " + connection + ": " + e);
        }
        return Arrays.copyOf(latencies, count);
    }

    private static void writeDigits(byte[] target, int offset, int width, long value) {
        long v = value;
        for (int i = offset + width - 1; i >= offset; i--) {
            target[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
    }

    /** MSA-1 is AA or CA and MSA-2 is the id we sent: checked on the bytes, without building strings. */
    private static boolean acknowledges(byte[] reply, byte[] message, int idOffset) {
        for (int i = 0; i + 7 + ID_WIDTH < reply.length; i++) {
            if (reply[i] != '\r' || reply[i + 1] != 'M' || reply[i + 2] != 'S' || reply[i + 3] != 'A') continue;
            int code = i + 5;
            boolean positive = (reply[code] == 'A' || reply[code] == 'C') && reply[code + 1] == 'A' && reply[code + 2] == '|';
            return positive && java.util.Arrays.equals(reply, code + 3, code + 3 + ID_WIDTH, message, idOffset, idOffset + ID_WIDTH)
                    && (code + 3 + ID_WIDTH == reply.length || reply[code + 3 + ID_WIDTH] == '\r' || reply[code + 3 + ID_WIDTH] == '|');
        }
        return false;
    }

    static Options parse(String[] args) {
        String host = "127.0.0.1";
        int port = 2575;
        int connections = 16;
        Duration warmup = Duration.ofSeconds(3);
        Duration measure = Duration.ofSeconds(10);
        Path file = Path.of("test-data/messages/oru_r01.hl7");
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--to" -> {
                    host = args[i + 1].substring(0, args[i + 1].lastIndexOf(':'));
                    port = Integer.parseInt(args[i + 1].substring(args[i + 1].lastIndexOf(':') + 1));
                }
                case "--connections" -> connections = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Duration.ofSeconds(Long.parseLong(args[i + 1]));
                case "--seconds" -> measure = Duration.ofSeconds(Long.parseLong(args[i + 1]));
                case "--file" -> file = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        return new Options(new InetSocketAddress(host, port), connections, warmup, measure, file);
    }
}
