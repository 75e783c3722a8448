package org.mllpserver.app;

import org.mllpserver.config.ConfigException;
import org.mllpserver.config.ConfigLoader;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.DeadLetter;
import org.mllpserver.journal.DeadLetterResolution;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.Replay;
import org.mllpserver.journal.RefusedFrame;
import org.mllpserver.journal.StoredMessage;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * {@code journal list [--since 1h|2026-11-22T10:00:00Z]} and {@code journal show ID|POSITION [--raw]}:
 * read the journal in DATA_DIR without changing it, also while the server runs.
 */
final class JournalCommand {

    private static final String USAGE = "usage: ./run.sh journal list [--since 1h|2026-11-22T10:00:00Z]\n"
            + "       ./run.sh journal show RECORD-ID|POSITION [--raw]";

    private JournalCommand() {
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Path directory;
        try {
            directory = ConfigLoader.parse(env).journal().directory(); // only reads the journal: no rule compiled, no key read
        } catch (ConfigException e) {
            err.println("journal: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        if (!Files.isDirectory(directory)) {
            err.println("journal: no journal in " + directory + " (set DATA_DIR to the server's data directory)");
            return Main.EXIT_FAILURE;
        }
        try {
            if (args.length >= 1 && args[0].equals("list")) return list(directory, args, out);
            if (args.length >= 2 && args[0].equals("show")) return show(directory, args, out, err);
        } catch (IllegalArgumentException e) {
            err.println("journal: " + e.getMessage());
            err.println(USAGE);
            return Main.EXIT_USAGE;
        } catch (IOException e) {
            err.println("journal: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
        err.println(USAGE);
        return Main.EXIT_USAGE;
    }

    private static int list(Path directory, String[] args, PrintStream out) throws IOException {
        Instant since = args.length >= 3 && args[1].equals("--since") ? since(args[2]) : Instant.EPOCH;
        if (args.length != 1 && args.length != 3) throw new IllegalArgumentException("list takes only --since");
        out.printf("%-20s  %-36s  %-24s  %-7s  %-20s  %-16s  %8s  %s%n",
                "POSITION", "RECORD ID", "RECEIVED", "KIND", "MSH-10", "MSH-9", "SIZE", "CONNECTORS / REASON");
        JournalReader.read(directory, 0, entry -> {
            switch (entry.type()) {
                case MESSAGE -> {
                    StoredMessage m = StoredMessage.decode(entry.body());
                    if (m.receivedAt().isBefore(since)) return;
                    out.printf("%020d  %s  %-24s  %-7s  %-20s  %-16s  %8s  %s%n", entry.position(), m.id(), m.receivedAt(), "message",
                            m.controlId(), m.messageType(), size(m.raw().length), m.connectors().isEmpty() ? "-" : String.join(",", m.connectors()));
                }
                case REFUSED_FRAME -> {
                    RefusedFrame f = RefusedFrame.decode(entry.body());
                    if (f.receivedAt().isBefore(since)) return;
                    out.printf("%020d  %s  %-24s  %-7s  %-20s  %-16s  %8s  %s%n", entry.position(), f.id(), f.receivedAt(), "refused",
                            f.controlId(), "-", size(f.raw().length), f.reason());
                }
                case DEAD_LETTER -> {
                    DeadLetter d = DeadLetter.decode(entry.body());
                    if (d.at().isBefore(since)) return;
                    out.printf("%020d  %s  %-24s  %-7s  %-20s  %-16s  %8s  %s%n", entry.position(), d.id(), d.at(), "dead",
                            d.message().controlId(), d.message().messageType(), size(d.message().raw().length),
                            d.connector() + " after " + d.attempts() + " attempt(s): " + d.lastError());
                }
                case REPLAY -> {
                    Replay r = Replay.decode(entry.body());
                    if (r.at().isBefore(since)) return;
                    out.printf("%020d  %s  %-24s  %-7s  %-20s  %-16s  %8s  %s%n", entry.position(), r.message().id(), r.at(), "replay",
                            r.message().controlId(), r.message().messageType(), size(r.message().raw().length),
                            String.join(",", r.message().connectors()) + " (dead letter " + r.deadLetterId() + ")");
                }
                case DEAD_LETTER_RESOLVED -> {
                    DeadLetterResolution r = DeadLetterResolution.decode(entry.body());
                    if (r.at().isBefore(since)) return;
                    out.printf("%020d  %s  %-24s  %-7s  %-20s  %-16s  %8s  %s%n", entry.position(), r.deadLetterId(), r.at(), "resolve",
                            "-", "-", "-", r.action());
                }
                case BATCH -> { }
            }
        });
        return Main.EXIT_OK;
    }

    private static int show(Path directory, String[] args, PrintStream out, PrintStream err) throws IOException {
        boolean raw = args.length >= 3 && args[2].equals("--raw");
        Optional<JournalReader.Entry> entry = find(directory, args[1]);
        if (entry.isEmpty()) {
            err.println("journal: no record " + args[1] + " in " + directory);
            return Main.EXIT_FAILURE;
        }
        byte[] bytes;
        StoredMessage carried = switch (entry.get().type()) {
            case MESSAGE -> StoredMessage.decode(entry.get().body());
            case REPLAY -> Replay.decode(entry.get().body()).message();
            case DEAD_LETTER -> DeadLetter.decode(entry.get().body()).message();
            default -> null;
        };
        if (entry.get().type() == RecordType.DEAD_LETTER_RESOLVED) {
            DeadLetterResolution r = DeadLetterResolution.decode(entry.get().body());
            err.printf("record at position %d: dead letter %s %s at %s%n", entry.get().position(), r.deadLetterId(), r.action(), r.at());
            return Main.EXIT_OK;
        }
        if (carried != null) {
            StoredMessage m = carried;
            err.printf("record %s at position %d: %s %s %s from %s, received %s, charset %s, %d bytes%n", m.id(),
                    entry.get().position(), entry.get().type().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '),
                    m.messageType(), m.controlId(), m.peer(), m.receivedAt(), m.charset(), m.raw().length);
            bytes = m.raw();
        } else {
            RefusedFrame f = RefusedFrame.decode(entry.get().body());
            err.printf("record %s at position %d: refused frame from %s, received %s, %d bytes: %s%n", f.id(),
                    entry.get().position(), f.peer(), f.receivedAt(), f.raw().length, f.reason());
            bytes = f.raw();
        }
        if (!raw) bytes = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).replace('\r', '\n')
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        out.write(bytes);
        if (!raw) out.println();
        out.flush();
        return Main.EXIT_OK;
    }

    private static Optional<JournalReader.Entry> find(Path directory, String idOrPosition) throws IOException {
        if (idOrPosition.matches("[0-9]+")) {
            long position = Long.parseLong(idOrPosition);
            JournalReader.Entry[] found = new JournalReader.Entry[1];
            JournalReader.read(directory, position, entry -> {
                if (found[0] == null && entry.position() == position && entry.type() != RecordType.BATCH) found[0] = entry;
            });
            return Optional.ofNullable(found[0]);
        }
        try {
            return JournalReader.find(directory, UUID.fromString(idOrPosition));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + idOrPosition + "' is neither a record id nor a position");
        }
    }

    private static Instant since(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            try {
                return Instant.now().minus(Duration.parse("PT" + text.toUpperCase(java.util.Locale.ROOT)));
            } catch (DateTimeParseException notADuration) {
                throw new IllegalArgumentException("--since takes a duration (30m, 2h) or a time (2026-11-22T10:00:00Z), not '" + text + "'");
            }
        }
    }

    private static String size(int bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format("%.1f KiB", bytes / 1024.0);
        return String.format("%.1f MiB", bytes / (1024.0 * 1024));
    }
}
