package org.mllpserver.app;

import org.mllpserver.mllp.ListenAddress;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.tls.TlsClient;
import org.mllpserver.tls.TlsException;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code send [--to host:port] [--timeout 10s] [--count N] [--rate N] [--quiet] FILE...}: sends
 * each message of each file over one MLLP connection, waits for each answer, prints its MSA line
 * (and ERR lines when it is not AA/CA) and a summary. Exits 0 only when every answer was AA or CA.
 *
 * <p>{@code --count N} sends N messages in all, cycling through the files, with MSH-10 made unique
 * ({@code original.n}); {@code --rate N} paces sending to N messages per second.
 *
 * <p>Enhanced mode, as MSH-15 asks: NE is sent without waiting; ER gets an answer only on error,
 * so a timeout means accepted; SU only on success, so a timeout means not accepted. A frame sent
 * with NE may still be answered (the server answers a batch or an unreadable header in original
 * mode): such an answer, whose MSA-2 is not the current message's, is reported and skipped.
 */
final class SendCommand {

    private static final String USAGE = "usage: ./run.sh send [--to host:port] [--timeout 10s] [--count N] [--rate N] [--quiet]"
            + " [--tls [--ca FILE] [--cert FILE --key FILE]] FILE...";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_REPLY_BYTES = 1 << 20;

    record Options(InetSocketAddress to, Duration timeout, long count, double rate, boolean quiet,
                   java.util.Optional<javax.net.ssl.SSLContext> tls, List<Path> files) {}

    private record Item(String label, byte[] payload) {}

    private SendCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options;
        List<Item> items;
        try {
            options = parse(args);
            items = load(options.files());
        } catch (IllegalArgumentException | IOException e) {
            err.println("send: " + e.getMessage());
            err.println(USAGE);
            return Main.EXIT_USAGE;
        }
        if (items.isEmpty()) {
            err.println("send: the files hold no messages");
            return Main.EXIT_USAGE;
        }
        return send(options, items, out);
    }

    private static int send(Options options, List<Item> items, PrintStream out) {
        long total = options.count() > 0 ? options.count() : items.size();
        long positive = 0;
        long negative = 0;
        long unanswered = 0;
        long notAcknowledged = 0;
        int[] unawaited = {0}; // frames sent with NE on the current connection whose possible answers have not been seen
        long started = System.nanoTime();
        MllpClient client = null;
        try {
            for (long i = 0; i < total; i++) {
                pace(options.rate(), started, i);
                Item item = items.get((int) (i % items.size()));
                byte[] payload = options.count() > 0 ? MessageFiles.withControlIdSuffix(item.payload(), i + 1) : item.payload();
                String label = options.count() > 0 ? item.label() + " (" + (i + 1) + ")" : item.label();
                String acceptAck = MessageFiles.acceptAckType(payload);
                byte[] reply;
                try {
                    if (client == null) {
                        client = connect(options);
                        unawaited[0] = 0;
                    }
                    client.send(payload);
                    if (acceptAck.equals("NE")) {
                        unawaited[0]++;
                        notAcknowledged++;
                        if (!options.quiet()) out.println(label + ": sent; MSH-15=NE asks for no acknowledgement");
                        continue;
                    }
                    reply = awaitAnswer(client, MessageFiles.controlId(payload), unawaited, label, out);
                } catch (java.net.SocketTimeoutException e) {
                    if (acceptAck.equals("ER")) {
                        positive++;
                        if (!options.quiet()) out.println(label + ": no answer within the timeout: accepted (MSH-15=ER answers only errors)");
                    } else {
                        unanswered++;
                        out.println(label + ": no answer (" + e.getMessage() + (acceptAck.equals("SU") ? "; MSH-15=SU: not accepted" : "") + ")");
                    }
                    client = closeQuietly(client);
                    continue;
                } catch (IOException e) {
                    unanswered++;
                    out.println(label + ": no answer (" + e.getMessage() + ")");
                    client = closeQuietly(client);
                    continue;
                }
                Answer answer = Answer.read(reply);
                if (answer.positive()) positive++;
                else negative++;
                if (!options.quiet() || !answer.positive()) out.println(label + ": " + answer.describe());
            }
        } finally {
            closeQuietly(client);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        out.printf("sent %d message(s) to %s in %.2f s: %d AA/CA, %d other, %d without answer%s%n",
                total, options.to().getHostString() + ":" + options.to().getPort(), seconds, positive, negative, unanswered,
                notAcknowledged == 0 ? "" : ", " + notAcknowledged + " not acknowledged as asked (MSH-15=NE)");
        return negative == 0 && unanswered == 0 ? Main.EXIT_OK : Main.EXIT_FAILURE;
    }

    /**
     * The answer to the message just sent. While frames sent with NE are outstanding, an answer
     * whose MSA-2 is not {@code controlId} is theirs: reported and skipped.
     */
    private static byte[] awaitAnswer(MllpClient client, String controlId, int[] unawaited, String label, PrintStream out)
            throws IOException {
        while (true) {
            byte[] reply = client.awaitReply();
            Answer answer = Answer.read(reply);
            if (unawaited[0] == 0 || answer.acknowledgedId().equals(controlId)) return reply;
            unawaited[0]--;
            out.println(label + ": skipped an answer to an earlier frame sent with NE: " + answer.msa());
        }
    }

    /** Sleeps until message {@code i} is due at {@code rate} per second (pacing, not synchronisation). */
    private static void pace(double rate, long startedNanos, long i) {
        if (rate <= 0) return;
        long due = startedNanos + (long) (i * 1e9 / rate);
        long wait;
        while ((wait = due - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
    }

    /** Plain MLLP, or TLS (checking the server's name against its certificate) with an optional client certificate. */
    private static MllpClient connect(Options options) throws IOException {
        if (options.tls().isEmpty()) return MllpClient.connect(options.to(), CONNECT_TIMEOUT, options.timeout(), MAX_REPLY_BYTES);
        var socket = TlsClient.connect(options.tls().get(), options.to().getHostString(), options.to().getPort(), CONNECT_TIMEOUT,
                options.timeout());
        return MllpClient.over(socket, options.timeout(), MAX_REPLY_BYTES);
    }

    static Options parse(String[] args) {
        InetSocketAddress to = new InetSocketAddress("localhost", 2575);
        Duration timeout = Duration.ofSeconds(10);
        long count = 0;
        double rate = 0;
        boolean quiet = false;
        boolean tls = false;
        java.util.Optional<Path> ca = java.util.Optional.empty();
        java.util.Optional<Path> cert = java.util.Optional.empty();
        java.util.Optional<Path> key = java.util.Optional.empty();
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--to" -> to = address(value(args, ++i, "--to"));
                case "--timeout" -> timeout = Duration.ofMillis(positive(value(args, ++i, "--timeout"), "--timeout", 1000));
                case "--count" -> count = positive(value(args, ++i, "--count"), "--count", 1);
                case "--rate" -> rate = positive(value(args, ++i, "--rate"), "--rate", 1);
                case "--quiet" -> quiet = true;
                case "--tls" -> tls = true;
                case "--ca" -> ca = java.util.Optional.of(Path.of(value(args, ++i, "--ca")));
                case "--cert" -> cert = java.util.Optional.of(Path.of(value(args, ++i, "--cert")));
                case "--key" -> key = java.util.Optional.of(Path.of(value(args, ++i, "--key")));
                default -> {
                    if (args[i].startsWith("--")) throw new IllegalArgumentException("unknown option " + args[i]);
                    files.add(Path.of(args[i]));
                }
            }
        }
        if (files.isEmpty()) throw new IllegalArgumentException("no files given");
        if (!tls && (ca.isPresent() || cert.isPresent() || key.isPresent())) throw new IllegalArgumentException("--ca, --cert and --key need --tls");
        java.util.Optional<javax.net.ssl.SSLContext> context = java.util.Optional.empty();
        if (tls) {
            try {
                context = java.util.Optional.of(TlsClient.context(ca, cert, key));
            } catch (TlsException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
        return new Options(to, timeout, count, rate, quiet, context, files);
    }

    private static InetSocketAddress address(String text) {
        ListenAddress parsed = ListenAddress.parse(text);
        return new InetSocketAddress(parsed.host().isEmpty() ? "localhost" : parsed.host(), parsed.port());
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[i];
    }

    /** A positive number; {@code --timeout} takes seconds ("10") or a suffix ("10s", "500ms"). */
    private static long positive(String text, String option, long unitMillis) {
        String t = text.strip();
        long scale = 1;
        if (option.equals("--timeout")) {
            if (t.endsWith("ms")) {
                t = t.substring(0, t.length() - 2);
                scale = 1;
                unitMillis = 1;
            } else if (t.endsWith("s")) {
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            long value = Long.parseLong(t) * scale;
            if (value <= 0) throw new NumberFormatException();
            return value * (option.equals("--timeout") ? unitMillis : 1);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a positive whole number, not '" + text + "'");
        }
    }

    private static List<Item> load(List<Path> files) throws IOException {
        List<Item> items = new ArrayList<>();
        for (Path file : files) {
            List<byte[]> messages = MessageFiles.split(Files.readAllBytes(file));
            for (int i = 0; i < messages.size(); i++) {
                items.add(new Item(messages.size() == 1 ? file.toString() : file + "#" + (i + 1), messages.get(i)));
            }
        }
        return items;
    }

    private static MllpClient closeQuietly(MllpClient client) {
        if (client == null) return null;
        try {
            client.close();
        } catch (IOException ignored) {
            // Closing a connection we are abandoning anyway; nothing to report.
        }
        return null;
    }

    /** The parts of a reply the command prints: MSA, and ERR on a negative answer. */
    record Answer(String msa, String acknowledgedId, List<String> errors, boolean positive) {
        static Answer read(byte[] reply) {
            String text = new String(reply, StandardCharsets.ISO_8859_1);
            String msa = "(no MSA segment in the answer)";
            String acknowledgedId = "";
            List<String> errors = new ArrayList<>();
            boolean positive = false;
            for (String segment : text.split("\r")) {
                if (segment.startsWith("MSA") && segment.length() > 3) {
                    msa = segment;
                    String[] fields = segment.split(java.util.regex.Pattern.quote(String.valueOf(segment.charAt(3))), -1);
                    positive = fields.length > 1 && (fields[1].equals("AA") || fields[1].equals("CA"));
                    acknowledgedId = fields.length > 2 ? fields[2] : "";
                } else if (segment.startsWith("ERR")) {
                    errors.add(segment);
                }
            }
            return new Answer(msa, acknowledgedId, List.copyOf(errors), positive);
        }

        String describe() {
            if (positive || errors.isEmpty()) return msa;
            return msa + System.lineSeparator() + "    " + String.join(System.lineSeparator() + "    ", errors);
        }
    }
}
