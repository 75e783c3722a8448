package org.mllpserver.app;

import java.io.PrintStream;
import java.util.Map;

/** The control socket's commands by their first word ({@code dlq}, {@code logs}, ...). */
final class ControlCommands implements ControlServer.Handler {

    private final Map<String, ControlServer.Handler> byName;

    ControlCommands(Map<String, ControlServer.Handler> byName) {
        this.byName = Map.copyOf(byName);
    }

    @Override
    public int run(String[] args, PrintStream out, String who) {
        ControlServer.Handler handler = args.length == 0 ? null : byName.get(args[0]);
        if (handler == null) {
            out.println("unknown command" + (args.length == 0 ? "" : " '" + args[0] + "'") + "; the control socket serves "
                    + String.join(", ", new java.util.TreeSet<>(byName.keySet())));
            return Main.EXIT_USAGE;
        }
        return handler.run(args, out, who);
    }

    @Override
    public boolean streams(String[] args) {
        ControlServer.Handler handler = args.length == 0 ? null : byName.get(args[0]);
        return handler != null && handler.streams(args);
    }
}
