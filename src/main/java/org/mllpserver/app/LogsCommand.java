package org.mllpserver.app;

import org.mllpserver.config.ConfigException;
import org.mllpserver.config.ConfigLoader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code ./run.sh logs [--level L] [--lines N] [--follow]}: asks the running server (its control
 * socket in DATA_DIR) for its recent log lines. The lines live only in the server's memory; with
 * no server running there are none to show, which it says.
 */
final class LogsCommand {

    private LogsCommand() {}

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        String[] request = new String[args.length + 1];
        request[0] = "logs";
        System.arraycopy(args, 0, request, 1, args.length);
        LogCommands.Request parsed = LogCommands.Request.parse(request);
        if (parsed.error() != null) {
            err.println("logs: " + parsed.error());
            err.println(LogCommands.USAGE);
            return Main.EXIT_USAGE;
        }
        Path dataDir;
        try {
            dataDir = ConfigLoader.parse(env).dataDir();
        } catch (ConfigException e) {
            err.println("logs: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        Path socket = ControlServer.socketPath(dataDir);
        if (Files.exists(socket)) {
            try {
                return ControlClient.request(socket, request, out);
            } catch (IOException e) {
                err.println("logs: the server's control socket " + socket + " does not answer (" + e.getMessage() + ")");
                return Main.EXIT_FAILURE;
            }
        }
        err.println("logs: no server is running with DATA_DIR=" + dataDir + " (no " + socket + "); a stopped server's log"
                + " is where its standard error went (journalctl -u mllp-server, kubectl logs)");
        return Main.EXIT_FAILURE;
    }
}
