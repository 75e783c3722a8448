package org.mllpserver.app;

import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.events.Events;
import org.mllpserver.delivery.DeadLetterQueue;
import org.mllpserver.delivery.DeliveryService;
import org.mllpserver.delivery.DispatcherStats;
import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The {@code dlq} commands over a {@link DeadLetterQueue}: run by the server for its control
 * socket, or by the command line itself when no server runs. Output is for people; the
 * operations themselves are the queue's, which the admin HTTP API will call too.
 */
final class DeadLetterCommands implements ControlServer.Handler {

    static final String USAGE = """
            usage: ./run.sh dlq list
                   ./run.sh dlq show ID [--raw]
                   ./run.sh dlq replay ID|--all [--to CONNECTOR | --to-addressed]
                   ./run.sh dlq purge ID|--all
                   ./run.sh dlq status""";

    private final DeadLetterQueue queue;
    private final DeliveryService delivery; // null when the server is not running
    private final Events events;
    private final java.time.Clock clock;

    DeadLetterCommands(DeadLetterQueue queue, DeliveryService delivery) {
        this(queue, delivery, Events.NONE, java.time.Clock.systemUTC());
    }

    /** As above, reporting every operator action (a replay, a purge, a message shown) to {@code events}. */
    DeadLetterCommands(DeadLetterQueue queue, DeliveryService delivery, Events events, java.time.Clock clock) {
        this.queue = queue;
        this.delivery = delivery;
        this.events = events;
        this.clock = clock;
    }

    /** Runs a command on the command line's own behalf (the server is stopped). */
    int run(String[] args, PrintStream out) {
        return run(args, out, "local user " + System.getProperty("user.name"));
    }

    @Override
    public int run(String[] args, PrintStream out, String who) {
        if (args.length < 2 || !args[0].equals("dlq")) {
            out.println(USAGE);
            return Main.EXIT_USAGE;
        }
        try {
            return switch (args[1]) {
                case "list" -> list(out);
                case "show" -> args.length >= 3 ? show(args[2], args.length > 3 && args[3].equals("--raw"), out, who) : usage(out);
                case "replay" -> replay(args, out, who);
                case "purge" -> args.length == 3 ? purge(args[2], out, who) : usage(out);
                case "status" -> status(out);
                default -> usage(out);
            };
        } catch (IllegalArgumentException e) {
            out.println("dlq: " + e.getMessage());
            return Main.EXIT_FAILURE;
        } catch (IOException e) {
            out.println("dlq: the journal could not be written: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }

    private static int usage(PrintStream out) {
        out.println(USAGE);
        return Main.EXIT_USAGE;
    }

    private int list(PrintStream out) {
        List<DeadLetterIndex.Entry> all = queue.list();
        out.printf("%-36s  %-24s  %-16s  %8s  %-20s  %-16s  %s%n", "DEAD LETTER ID", "SINCE", "CONNECTOR", "ATTEMPTS", "MSH-10",
                "MSH-9", "LAST ERROR");
        for (DeadLetterIndex.Entry e : all) {
            out.printf("%-36s  %-24s  %-16s  %8d  %-20s  %-16s  %s%n", e.id(), e.at(), e.connector(), e.attempts(), e.controlId(),
                    e.messageType(), e.lastError());
        }
        out.println(all.size() + " dead letter(s)");
        return Main.EXIT_OK;
    }

    private int show(String id, boolean raw, PrintStream out, String who) throws IOException {
        DeadLetter d = queue.read(entry(id));
        StoredMessage m = d.message();
        acted(who, "dlq show content", Optional.of(d.id()), Optional.of(m.id()), "");
        if (!raw) {
            out.printf("dead letter %s for connector %s since %s after %d attempt(s): %s%n", d.id(), d.connector(), d.at(),
                    d.attempts(), d.lastError());
            out.printf("record %s (position %d): %s %s from %s, received %s, charset %s, addressed to %s%n", m.id(),
                    d.recordPosition(), m.messageType(), m.controlId(), m.peer(), m.receivedAt(), m.charset(), m.connectors());
        }
        String text = new String(m.raw(), StandardCharsets.ISO_8859_1);
        out.print(raw ? text : text.replace("\r\n", "\r").replace('\r', '\n'));
        if (!raw) out.println();
        return Main.EXIT_OK;
    }

    /** replay ID|--all [--to CONNECTOR | --to-addressed]: by default to the connector that gave up on it. */
    private int replay(String[] args, PrintStream out, String who) throws IOException {
        if (args.length < 3) return usage(out);
        Optional<String> to = Optional.empty();
        boolean toAddressed = false;
        if (args.length == 5 && args[3].equals("--to")) to = Optional.of(args[4].toLowerCase(java.util.Locale.ROOT).replace('_', '-')); // canonical
        else if (args.length == 4 && args[3].equals("--to-addressed")) toAddressed = true;
        else if (args.length != 3) return usage(out);
        int done;
        if (args[2].equals("--all")) {
            done = queue.replayAll(to, toAddressed, (e, went) -> {
                out.println("replayed " + e.id() + " (record " + e.recordId() + ") to " + String.join(", ", went));
                acted(who, "dlq replay", Optional.of(e.id()), Optional.of(e.recordId()), "to " + String.join(", ", went));
            });
        } else {
            DeadLetterIndex.Entry e = entry(args[2]);
            List<String> went = queue.replay(e.id(), to, toAddressed);
            out.println("replayed " + e.id() + " (record " + e.recordId() + ") to " + String.join(", ", went));
            acted(who, "dlq replay", Optional.of(e.id()), Optional.of(e.recordId()), "to " + String.join(", ", went));
            done = 1;
        }
        out.println(done + " dead letter(s) replayed; they are delivered after the records already in the journal");
        return Main.EXIT_OK;
    }

    private int purge(String id, PrintStream out, String who) throws IOException {
        int done;
        if (id.equals("--all")) {
            done = queue.purgeAll();
            acted(who, "dlq purge --all", Optional.empty(), Optional.empty(), done + " dead letter(s)");
        } else {
            DeadLetterIndex.Entry e = entry(id);
            queue.purge(e.id());
            acted(who, "dlq purge", Optional.of(e.id()), Optional.of(e.recordId()), "");
            done = 1;
        }
        out.println(done + " dead letter(s) purged");
        return Main.EXIT_OK;
    }

    private int status(PrintStream out) {
        if (delivery == null) {
            out.println("the server is not running: no delivery status");
            return Main.EXIT_FAILURE;
        }
        out.printf("%-16s  %10s  %10s  %8s  %20s  %14s  %-8s  %s%n", "CONNECTOR", "DELIVERED", "FAILED", "DEAD", "CURSOR", "BACKLOG",
                "STATE", "LAST ERROR");
        for (Map.Entry<String, DispatcherStats> e : delivery.stats().entrySet()) {
            DispatcherStats s = e.getValue();
            out.printf("%-16s  %10d  %10d  %8d  %20d  %14s  %-8s  %s%n", e.getKey(), s.delivered(), s.failedAttempts(), s.deadLetters(),
                    s.cursor(), delivery.backlogBytes(e.getKey()) + " B", state(s.status()), s.lastError());
        }
        return Main.EXIT_OK;
    }

    private void acted(String who, String action, Optional<UUID> deadLetter, Optional<UUID> record, String detail) {
        events.operatorAction(new Events.OperatorAction(clock.instant(), who, action, deadLetter, record, detail));
    }

    private static String state(DispatcherStats.Status status) {
        String state = status.state().name().toLowerCase(java.util.Locale.ROOT);
        return status.state() == DispatcherStats.State.STALLED ? state + " since " + status.since() + ": " + status.reason() : state;
    }

    private DeadLetterIndex.Entry entry(String id) {
        UUID uuid;
        try {
            uuid = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + id + "' is not a dead letter id (see dlq list)");
        }
        return queue.get(uuid).orElseThrow(() -> new IllegalArgumentException("no open dead letter " + id));
    }
}
