package org.mllpserver.app;

import org.mllpserver.audit.AuditEvent;
import org.mllpserver.audit.AuditKind;
import org.mllpserver.audit.AuditReader;
import org.mllpserver.audit.AuditRecord;
import org.mllpserver.audit.Verification;
import org.mllpserver.config.ConfigException;
import org.mllpserver.config.ConfigLoader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code audit list}, {@code audit export} and {@code audit verify}: read the audit trail in
 * DATA_DIR/audit without changing it and without taking the writer's lock, so they work while the
 * server runs and when it is stopped.
 */
final class AuditCommand {

    private static final String USAGE = """
            usage: ./run.sh audit list [--since 1h|2026-11-22T10:00:00Z] [--until TIME] [--control-id MSH-10] [--event EVENT] [--limit N] [--oldest-first]
                   ./run.sh audit export [--since TIME] [--until TIME]      (JSON lines, oldest first)
                   ./run.sh audit verify                                    (exit 0 when the chain is whole, 1 at the first break)""";
    /** Records list shows unless told otherwise: a screenful or two. */
    static final int DEFAULT_LIMIT = 100;
    private static final Set<String> LIST_OPTIONS = Set.of("--since", "--until", "--control-id", "--event", "--limit", "--oldest-first");
    private static final Set<String> EXPORT_OPTIONS = Set.of("--since", "--until");
    private static final Set<String> FLAGS = Set.of("--oldest-first");

    private AuditCommand() {
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Path directory;
        try {
            directory = ConfigLoader.parse(env).dataDir().resolve("audit"); // the parse only: a broken rule does not stop a verify
        } catch (ConfigException e) {
            err.println("audit: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        if (!Files.isDirectory(directory)) {
            err.println("audit: no audit trail in " + directory + " (set DATA_DIR to the server's data directory)");
            return Main.EXIT_FAILURE;
        }
        try {
            String command = args.length == 0 ? "" : args[0];
            return switch (command) {
                case "list" -> list(directory, options(args, LIST_OPTIONS), out, err);
                case "export" -> export(directory, options(args, EXPORT_OPTIONS), out, err);
                case "verify" -> verify(directory, options(args, Set.of()), out);
                default -> {
                    err.println(USAGE);
                    yield Main.EXIT_USAGE;
                }
            };
        } catch (IllegalArgumentException e) {
            err.println("audit: " + e.getMessage());
            err.println(USAGE);
            return Main.EXIT_USAGE;
        } catch (IOException e) {
            err.println("audit: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }

    private static int list(Path directory, Map<String, String> options, PrintStream out, PrintStream err) throws IOException {
        int limit = options.containsKey("--limit") ? limit(options.get("--limit")) : DEFAULT_LIMIT;
        AuditReader.Query query = new AuditReader.Query(time(options, "--since"), time(options, "--until"),
                Optional.ofNullable(options.get("--control-id")), Optional.ofNullable(options.get("--event")).map(AuditCommand::kind),
                limit, !options.containsKey("--oldest-first"));
        List<AuditRecord> records = AuditReader.search(directory, query);
        out.printf("%-10s  %-24s  %-20s  %-22s  %-20s  %-16s  %-4s  %s%n", "SEQ", "TIME", "EVENT", "PEER", "MSH-10", "MSH-9", "ACK", "DETAIL");
        for (AuditRecord r : records) {
            AuditEvent e = r.event();
            out.printf("%-10d  %-24s  %-20s  %-22s  %-20s  %-16s  %-4s  %s%n", r.seq(), e.time(),
                    e.kind().externalName() + (e.recovered() ? "*" : ""), dash(e.sender().address()), dash(e.header().controlId()),
                    dash(e.header().messageType()), dash(e.answer().ackCode()), detail(e));
        }
        if (records.stream().anyMatch(r -> r.event().recovered())) err.println("* recovered from the journal after a crash");
        if (records.size() == limit) {
            err.println("audit: the " + (query.newestFirst() ? "newest " : "oldest ") + limit + " matching records shown (--limit, --since)");
        }
        return Main.EXIT_OK;
    }

    /** The last column: what the record is about besides the columns before it. */
    private static String detail(AuditEvent e) {
        StringBuilder out = new StringBuilder();
        e.stored().recordId().ifPresent(id -> out.append("record ").append(id).append(' '));
        if (!e.delivery().connector().isEmpty()) out.append(e.delivery().connector()).append(" after ").append(e.delivery().attempts()).append(" attempt(s) ");
        if (!e.operator().who().isEmpty()) out.append(e.operator().who()).append(": ").append(e.operator().action()).append(' ');
        e.operator().deadLetterId().ifPresent(id -> out.append("dead letter ").append(id).append(' '));
        e.payload().sha256().ifPresent(h -> out.append("sha256 ").append(h.hex(), 0, 16).append("… "));
        if (!e.answer().reasons().isEmpty()) out.append(String.join("; ", e.answer().reasons())).append(' ');
        if (!e.detail().isEmpty()) out.append(e.detail());
        return out.isEmpty() ? "-" : out.toString().strip();
    }

    private static int export(Path directory, Map<String, String> options, PrintStream out, PrintStream err) throws IOException {
        long count = AuditReader.export(directory, time(options, "--since"), time(options, "--until"), out);
        out.flush();
        err.println("audit: " + count + " record(s) exported");
        return Main.EXIT_OK;
    }

    private static int verify(Path directory, Map<String, String> options, PrintStream out) throws IOException {
        Verification result = AuditReader.verify(directory);
        out.println(result.summary());
        return switch (result) {
            case Verification.Intact intact -> {
                intact.notes().forEach(note -> out.println("note: " + note));
                yield Main.EXIT_OK;
            }
            case Verification.Broken broken -> {
                out.println(broken.recordsBefore() + " record(s) before the break are whole and chained");
                yield Main.EXIT_FAILURE;
            }
        };
    }

    /** {@code --name value} pairs and flags after the sub-command; anything else is a usage error. */
    private static Map<String, String> options(String[] args, Set<String> allowed) {
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String name = args[i];
            if (!allowed.contains(name)) throw new IllegalArgumentException(args[0] + " does not take '" + name + "'");
            if (FLAGS.contains(name)) {
                options.put(name, "");
                continue;
            }
            if (i + 1 >= args.length) throw new IllegalArgumentException(name + " needs a value");
            options.put(name, args[++i]);
        }
        return options;
    }

    private static Optional<Instant> time(Map<String, String> options, String name) {
        String text = options.get(name);
        if (text == null) return Optional.empty();
        try {
            return Optional.of(Instant.parse(text));
        } catch (DateTimeParseException notAnInstant) {
            try {
                String upper = text.strip().toUpperCase(Locale.ROOT);
                Duration ago = upper.endsWith("D") ? Duration.parse("P" + upper) : Duration.parse("PT" + upper);
                return Optional.of(Instant.now().minus(ago));
            } catch (DateTimeParseException notADuration) {
                throw new IllegalArgumentException(name + " takes a duration (30m, 2h, 7d) or a time (2026-11-22T10:00:00Z), not '" + text + "'");
            }
        }
    }

    private static int limit(String text) {
        try {
            int limit = Integer.parseInt(text);
            if (limit >= 1 && limit <= AuditReader.MAX_LIMIT) return limit;
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("--limit takes a number from 1 to " + AuditReader.MAX_LIMIT + ", not '" + text + "'");
    }

    private static AuditKind kind(String name) {
        return AuditKind.ofName(name).orElseThrow(() -> new IllegalArgumentException(
                "--event takes one of " + AuditKind.names() + ", not '" + name + "'"));
    }

    private static String dash(String text) {
        return text.isEmpty() ? "-" : text;
    }
}
