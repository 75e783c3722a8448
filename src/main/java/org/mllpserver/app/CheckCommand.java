package org.mllpserver.app;

import org.mllpserver.config.ConfigException;
import org.mllpserver.config.ConfigLoader;
import org.mllpserver.config.Prepared;
import org.mllpserver.config.Routing;
import org.mllpserver.config.ServerConfig;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.rules.RuleSet;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./run.sh check [--messages DIR]}: loads the configuration and compiles every rule and
 * filter, as the server would at start (exit 2 with every problem listed). With
 * {@code --messages}, also evaluates each rule and filter on each message of each file in DIR
 * and prints a table: message × rule (pass/fail) and connector (addressed/-). Exit 1 when a
 * message could not be read or an expression could not be evaluated on one.
 */
final class CheckCommand {

    private CheckCommand() {}

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Path messages = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--messages") && i + 1 < args.length) {
                messages = Path.of(args[++i]);
            } else {
                err.println("usage: ./run.sh check [--messages DIR]");
                return Main.EXIT_USAGE;
            }
        }
        Prepared prepared;
        try {
            prepared = ConfigLoader.load(env);
        } catch (ConfigException e) {
            err.println("mllp-server check: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        ServerConfig config = prepared.config();
        Routing routing = config.routing();
        java.util.List<String> unusable = connectorProblems(routing);
        if (!unusable.isEmpty()) {
            err.println("mllp-server check: " + unusable.size() + " connector(s) cannot be set up:\n  " + String.join("\n  ", unusable));
            return Main.EXIT_USAGE;
        }
        out.println("configuration OK: " + routing.rules().size() + " validation rule(s), " + routing.connectors().size()
                + " connector(s), every expression compiled");
        if (messages == null) return Main.EXIT_OK;
        try {
            return table(messages, prepared, out, err);
        } catch (IOException e) {
            err.println("mllp-server check: cannot read " + messages + ": " + e.getMessage());
            return Main.EXIT_USAGE;
        }
    }

    /**
     * Builds each connector as the server would (a CA file that is not one, a header the HTTP
     * client refuses, unusable TLS files) and closes it again; nothing is sent, no database is
     * contacted. File connectors are not built: that would create their directory.
     */
    private static java.util.List<String> connectorProblems(Routing routing) {
        java.util.List<String> problems = new java.util.ArrayList<>();
        for (Routing.Connector c : routing.connectors()) {
            if (c.settings() instanceof org.mllpserver.delivery.ConnectorSettings.File) continue;
            try {
                Connectors.create(c.name(), c.settings()).close();
            } catch (Exception e) {
                problems.add("connector " + c.name() + ": " + e.getMessage());
            }
        }
        return problems;
    }

    private static int table(Path directory, Prepared prepared, PrintStream out, PrintStream err) throws IOException {
        ServerConfig config = prepared.config();
        List<Path> files;
        try (Stream<Path> listing = Files.list(directory)) {
            files = listing.filter(Files::isRegularFile).sorted().toList();
        }
        MessageReader reader = new MessageReader(config.reader());
        RuleSet rules = prepared.rules();
        List<String> header = new ArrayList<>(List.of("message"));
        config.routing().rules().forEach(r -> header.add("rule " + r.name()));
        config.routing().connectors().forEach(c -> header.add("connector " + c.name()));
        List<List<String>> rows = new ArrayList<>();
        boolean trouble = false;
        for (Path file : files) {
            List<byte[]> found = MessageFiles.split(Files.readAllBytes(file));
            for (int i = 0; i < found.size(); i++) {
                String name = file.getFileName() + (found.size() > 1 ? "#" + (i + 1) : "");
                List<String> row = new ArrayList<>(List.of(name));
                switch (reader.read(found.get(i))) {
                    case MessageReader.Refused refused -> {
                        trouble = true;
                        err.println(name + ": the server would refuse it before any rule: " + refused.problems().getFirst());
                        while (row.size() < header.size()) row.add("(refused)");
                    }
                    case MessageReader.Parsed parsed -> {
                        for (RuleSet.Outcome outcome : rules.explain(parsed.message())) {
                            if (outcome.result().startsWith("error")) {
                                trouble = true;
                                err.println(name + ": " + outcome.kind() + " " + outcome.name() + ": " + outcome.result());
                                row.add("error");
                            } else {
                                row.add(outcome.result());
                            }
                        }
                    }
                }
                rows.add(row);
            }
        }
        print(header, rows, out);
        return trouble ? Main.EXIT_FAILURE : Main.EXIT_OK;
    }

    private static void print(List<String> header, List<List<String>> rows, PrintStream out) {
        int[] widths = new int[header.size()];
        for (int c = 0; c < header.size(); c++) {
            widths[c] = header.get(c).length();
            for (List<String> row : rows) widths[c] = Math.max(widths[c], row.get(c).length());
        }
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.size(); c++) {
                if (c > 0) line.append("  ");
                line.append(c == row.size() - 1 ? row.get(c) : String.format("%-" + widths[c] + "s", row.get(c)));
            }
            out.println(line);
        }
    }
}
