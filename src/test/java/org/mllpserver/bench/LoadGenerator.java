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
        String template = Files.readString(options.file(), StandardCharsets.ISO_8859_1).replace("\r\n", "\r").replace('\n', '\r');
        String controlId = template.split("\r")[0].split("\\|", -1)[9];
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        CyclicBarrier ready = new CyclicBarrier(options.connections() + 1);
        List<Future<long[]>> workers = new ArrayList<>();
        long[] failures = new long[options.connections()];
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < options.connections(); c++) {
                int connection = c;
                workers.add(pool.submit(() -> sender(options, template, controlId, connection, ready, measuring, stop, failures)));
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

    private static long[] sender(Options options, String template, String controlId, int connection, CyclicBarrier ready,
                                 AtomicBoolean measuring, AtomicBoolean stop, long[] failures) throws Exception {
        long[] latencies = new long[1 << 16];
        int count = 0;
        String runTag = Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        try (MllpClient client = MllpClient.connect(options.to(), Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 20)) {
            ready.await();
            for (long seq = 0; !stop.get(); seq++) {
                String id = String.format("%s%02d%09d", runTag, connection, seq); // unique MSH-10, at most 20 characters
                byte[] message = template.replaceFirst("\\|" + java.util.regex.Pattern.quote(controlId) + "\\|", "|" + id + "|")
                        .getBytes(StandardCharsets.ISO_8859_1);
                long sent = System.nanoTime();
                byte[] reply = client.exchange(message);
                long latency = System.nanoTime() - sent;
                if (!acknowledges(reply, id)) {
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

    /** MSA-1 is AA or CA and MSA-2 is the id we sent. */
    private static boolean acknowledges(byte[] reply, String id) {
        for (String segment : new String(reply, StandardCharsets.ISO_8859_1).split("\r")) {
            if (!segment.startsWith("MSA")) continue;
            String[] fields = segment.split(java.util.regex.Pattern.quote(String.valueOf(segment.charAt(3))), -1);
            return fields.length > 2 && (fields[1].equals("AA") || fields[1].equals("CA")) && fields[2].equals(id);
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
