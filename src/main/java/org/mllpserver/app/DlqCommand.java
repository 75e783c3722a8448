package org.mllpserver.app;

import org.mllpserver.config.ConfigException;
import org.mllpserver.config.ConfigLoader;
import org.mllpserver.config.Routing;
import org.mllpserver.config.ServerConfig;
import org.mllpserver.delivery.DeadLetterIndex;
import org.mllpserver.delivery.DeadLetterQueue;
import org.mllpserver.journal.ChannelFactory;
import org.mllpserver.journal.Journal;
import org.mllpserver.journal.JournalLockedException;
import org.mllpserver.journal.RecordIds;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code ./run.sh dlq ...}: sends the command to the running server's control socket; when no
 * server runs in DATA_DIR, opens the journal itself and runs it there (a replay is then
 * delivered when the server starts).
 */
final class DlqCommand {

    private DlqCommand() {}

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        ServerConfig config;
        try {
            config = ConfigLoader.parse(env); // works whatever state a rule or a key file is in
        } catch (ConfigException e) {
            err.println("dlq: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        Path dataDir = config.dataDir();
        String[] request = new String[args.length + 1];
        request[0] = "dlq";
        System.arraycopy(args, 0, request, 1, args.length);
        Path socket = ControlServer.socketPath(dataDir);
        if (Files.exists(socket)) {
            try {
                return ControlClient.request(socket, request, out);
            } catch (IOException e) {
                // a socket file without a server: a stale one; fall through to the journal itself
            }
        }
        return local(config, request, out, err);
    }

    private static int local(ServerConfig config, String[] request, PrintStream out, PrintStream err) {
        DeadLetterIndex index = new DeadLetterIndex();
        Clock clock = Clock.systemUTC();
        try (Journal journal = Journal.open(config.journal(), clock, ChannelFactory.DEFAULT, index.visitor());
             DeadLetterQueue queue = new DeadLetterQueue(journal, index, new RecordIds(clock, new SecureRandom()), clock,
                     config.routing().connectors().stream().map(Routing.Connector::name).collect(Collectors.toSet()))) {
            return new DeadLetterCommands(queue, null).run(request, out);
        } catch (JournalLockedException e) {
            err.println("dlq: a server is using " + config.journal().directory() + " but its control socket does not answer: " + e.getMessage());
            return Main.EXIT_FAILURE;
        } catch (IOException e) {
            err.println("dlq: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}
