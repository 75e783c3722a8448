package org.mllpserver.app;

import org.mllpserver.admin.LogBuffer;

import java.io.PrintStream;
import java.util.List;
import java.util.logging.Level;

/**
 * {@code ./run.sh logs [--level L] [--lines N] [--follow]}: the running server's recent log lines
 * (the ring buffer of {@code LOG_BUFFER_LINES}), served on the control socket. With {@code --follow}
 * new lines stream until the client goes away (Ctrl-C) or the server stops.
 */
final class LogCommands implements ControlServer.Handler {

    static final String USAGE = "usage: ./run.sh logs [--level ERROR|WARNING|INFO|DEBUG|TRACE] [--lines N] [--follow]";
    /** Lines shown when --lines is not given. */
    static final int DEFAULT_LINES = 100;
    /** How long a follow waits for a line before it looks again whether its client is still there. */
    private static final long FOLLOW_WAIT_MILLIS = 1_000;

    private final LogBuffer buffer;

    LogCommands(LogBuffer buffer) {
        this.buffer = buffer;
    }

    /** What a request asked for; {@code error} is set when the arguments are bad. */
    record Request(Level level, int lines, boolean follow, String error) {
        static Request parse(String[] args) {
            Level level = Level.ALL;
            int lines = DEFAULT_LINES;
            boolean follow = false;
            for (int i = 1; i < args.length; i++) {
                switch (args[i]) {
                    case "--follow", "-f" -> follow = true;
                    case "--level", "--lines" -> {
                        if (i + 1 >= args.length) return bad(args[i] + " needs a value");
                        String value = args[++i];
                        if (args[i - 1].equals("--level")) {
                            try {
                                level = LogBuffer.levelOf(value);
                            } catch (IllegalArgumentException e) {
                                return bad(e.getMessage());
                            }
                        } else {
                            try {
                                lines = Integer.parseInt(value);
                            } catch (NumberFormatException e) {
                                lines = -1;
                            }
                            if (lines < 0) return bad("--lines needs a whole number of 0 or more, not '" + value + "'");
                        }
                    }
                    default -> {
                        return bad("unknown argument '" + args[i] + "'");
                    }
                }
            }
            return new Request(level, lines, follow, null);
        }

        private static Request bad(String error) {
            return new Request(Level.ALL, 0, false, error);
        }
    }

    @Override
    public boolean streams(String[] args) {
        return Request.parse(args).follow();
    }

    @Override
    public int run(String[] args, PrintStream out, String who) {
        Request request = Request.parse(args);
        if (request.error() != null) {
            out.println("logs: " + request.error());
            out.println(USAGE);
            return Main.EXIT_USAGE;
        }
        long last = print(buffer.recent(request.level(), request.lines()), out);
        if (!request.follow()) return Main.EXIT_OK;
        if (last < 0) last = buffer.newest();
        out.flush();
        try {
            while (!out.checkError()) { // checkError flushes: a client gone shows here
                long newest = buffer.awaitAfter(last, FOLLOW_WAIT_MILLIS);
                if (newest > last) {
                    // Lines that the ring overwrote while this client was slow are skipped; the first one shown says so.
                    List<LogBuffer.Line> lines = buffer.after(last, request.level(), Integer.MAX_VALUE);
                    if (!lines.isEmpty() && lines.getFirst().sequence() > last + 1 && request.level() == Level.ALL) {
                        out.println("(" + (lines.getFirst().sequence() - last - 1) + " lines were overwritten before they could be sent)");
                    }
                    print(lines, out);
                    last = newest;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the client went away, or the server stops
        }
        return Main.EXIT_OK;
    }

    /** Prints the lines; returns the sequence of the last one, or -1 when there were none. */
    private static long print(List<LogBuffer.Line> lines, PrintStream out) {
        long last = -1;
        for (LogBuffer.Line line : lines) {
            out.println(line.text());
            last = line.sequence();
        }
        return last;
    }
}
