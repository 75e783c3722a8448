package org.mllpserver.app;

import org.mllpserver.config.LogSettings;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Sets up the one log stream: System.Logger (ours, and HAPI's SLF4J routed through
 * slf4j-jdk14) ends in java.util.logging, which writes one line per event to
 * stderr: {@code 2026-11-22T10:15:30.123Z INFO    MllpListener  message}.
 */
final class Logging {

    /** Held so the level set on it is not lost: java.util.logging keeps loggers weakly. */
    private static final Logger HAPI = Logger.getLogger("ca.uhn");
    /** The PostgreSQL driver logs its connection URL, password included, below INFO: never below INFO. */
    private static final Logger POSTGRES = Logger.getLogger("org.postgresql");
    /** The JDK's HTTP client can log request headers (an Authorization value) below INFO. */
    private static final Logger HTTP_CLIENT = Logger.getLogger("jdk.internal.httpclient");

    private Logging() {
    }

    static void configure(LogSettings settings) {
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler handler : root.getHandlers()) root.removeHandler(handler);
        ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new OneLine());
        handler.setLevel(Level.ALL);
        try {
            handler.setEncoding(StandardCharsets.UTF_8.name());
        } catch (java.io.UnsupportedEncodingException e) {
            throw new IllegalStateException("UTF-8 is always supported", e);
        }
        root.addHandler(handler);
        Level level = toJul(settings.level());
        root.setLevel(level);
        // HAPI announces itself at INFO on first use; its warnings and errors still come through.
        HAPI.setLevel(level.intValue() < Level.INFO.intValue() ? level : Level.WARNING);
        POSTGRES.setLevel(level.intValue() < Level.INFO.intValue() ? Level.INFO : level);
        HTTP_CLIENT.setLevel(level.intValue() < Level.INFO.intValue() ? Level.INFO : level);
    }

    static Level toJul(System.Logger.Level level) {
        return switch (level) {
            case ALL -> Level.ALL;
            case TRACE -> Level.FINER;
            case DEBUG -> Level.FINE;
            case INFO -> Level.INFO;
            case WARNING -> Level.WARNING;
            case ERROR -> Level.SEVERE;
            case OFF -> Level.OFF;
        };
    }

    /** One line per record; a stack trace, when there is one, follows indented. */
    static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder(160);
            line.append(Instant.ofEpochMilli(record.getMillis())).append(' ');
            line.append(String.format("%-7s ", levelName(record.getLevel())));
            line.append(shortName(record.getLoggerName())).append("  ");
            line.append(formatMessage(record)).append(System.lineSeparator());
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                line.append(trace.toString().indent(4));
            }
            return line.toString();
        }

        private static String levelName(Level level) {
            if (level.intValue() >= Level.SEVERE.intValue()) return "ERROR";
            if (level.intValue() >= Level.WARNING.intValue()) return "WARNING";
            if (level.intValue() >= Level.INFO.intValue()) return "INFO";
            if (level.intValue() >= Level.FINE.intValue()) return "DEBUG";
            return "TRACE";
        }

        private static String shortName(String loggerName) {
            if (loggerName == null) return "-";
            int dot = loggerName.lastIndexOf('.');
            return dot < 0 ? loggerName : loggerName.substring(dot + 1);
        }
    }
}
