package org.mllpserver.app;

import org.mllpserver.config.ConfigException;
import org.mllpserver.config.ConfigLoader;
import org.mllpserver.config.Prepared;
import org.mllpserver.config.ServerConfig;
import org.mllpserver.config.Variable;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.System.Logger.Level.ERROR;

/**
 * Command line entry: {@code serve} (the default), {@code send}, {@code journal}, {@code check}, {@code help}.
 * Exit codes: 0 success, 1 failure at run time, 2 bad configuration or usage.
 */
public final class Main {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;
    /** Exit code when a second SIGINT/SIGTERM cuts the drain short (128 + SIGINT). */
    private static final int EXIT_INTERRUPTED = 130;
    /** How long past DRAIN_TIMEOUT a stop may take (dispatchers, the journal's last force) before the process halts. */
    static final Duration STOP_GRACE = Duration.ofSeconds(5);
    /** How often the watchdog looks for an ended loop. */
    private static final Duration WATCHDOG_PERIOD = Duration.ofSeconds(1);

    private Main() {
    }

    public static void main(String[] args) {
        hardenTls();
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    /**
     * Before any TLS class loads: refuse client-initiated TLS 1.2 renegotiation (the JDK allows it
     * by default), which would let a client change its certificate after TLS_ALLOWED_CLIENTS was
     * checked, or keep an idle connection busy.
     */
    static void hardenTls() {
        System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        String command = args.length == 0 ? "serve" : args[0];
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        return switch (command) {
            case "serve" -> serve(env, err);
            case "send" -> SendCommand.run(rest, out, err);
            case "journal" -> JournalCommand.run(rest, env, out, err);
            case "check" -> CheckCommand.run(rest, env, out, err);
            case "dlq" -> DlqCommand.run(rest, env, out, err);
            case "logs" -> LogsCommand.run(rest, env, out, err);
            case "audit" -> AuditCommand.run(rest, env, out, err);
            case "help", "--help", "-h" -> {
                usage(out);
                yield EXIT_OK;
            }
            default -> {
                err.println("mllp-server: unknown command '" + command + "'");
                usage(err);
                yield EXIT_USAGE;
            }
        };
    }

    private static int serve(Map<String, String> env, PrintStream err) {
        Prepared prepared;
        try {
            prepared = ConfigLoader.load(env);
        } catch (ConfigException e) {
            err.println("mllp-server: cannot start, " + e.getMessage());
            return EXIT_USAGE;
        }
        ServerConfig config = prepared.config();
        Logging.configure(config.logging());
        System.Logger log = System.getLogger(Main.class.getName());
        CountDownLatch stopRequested = new CountDownLatch(1);
        Duration stopBound = config.drainTimeout().plus(STOP_GRACE);
        Signals.onTermination(() -> {
            stopRequested.countDown();
            haltAfter(stopBound, log);
        }, () -> Runtime.getRuntime().halt(EXIT_INTERRUPTED));
        // Installed before the (possibly long) start: the JVM's default for SIGHUP would stop the process.
        java.util.concurrent.atomic.AtomicReference<Server> started = new java.util.concurrent.atomic.AtomicReference<>();
        Signals.onHangup(() -> Thread.ofVirtual().start(() -> {
            Server s = started.get();
            if (s == null) log.log(System.Logger.Level.WARNING, "SIGHUP before the server finished starting: nothing reloaded");
            else s.reloadTls("SIGHUP");
        }));
        try {
            Server server = Server.start(prepared, Clock.systemDefaultZone());
            started.set(server);
            watch(server, log);
            stopRequested.await();
            server.stop();
            return EXIT_OK;
        } catch (IOException e) {
            log.log(ERROR, e.getMessage());
            return EXIT_FAILURE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EXIT_FAILURE;
        }
    }

    /**
     * SIGTERM always ends the process: the drain is bounded by DRAIN_TIMEOUT, and if the whole
     * stop (dispatchers, the journal's last force) is not done {@link #STOP_GRACE} later, the
     * process halts. Nothing acknowledged is lost by that: AA follows the fsync.
     */
    private static void haltAfter(Duration bound, System.Logger log) {
        Thread.ofPlatform().daemon(true).name("stop-deadline").start(() -> {
            try {
                Thread.sleep(bound);
            } catch (InterruptedException e) {
                return;
            }
            log.log(ERROR, "the stop did not finish within DRAIN_TIMEOUT + " + STOP_GRACE.toSeconds() + " s; halting"
                    + " (every acknowledged message is on disk; delivery resumes from the saved cursors)");
            Runtime.getRuntime().halt(EXIT_FAILURE);
        });
    }

    /**
     * The watchdog: once a second, whether a loop that serves others (an accept loop, the journal
     * flusher, a dispatcher) has ended. Each survives every failure by itself, so this is a last
     * line: the process exits non-zero so that its supervisor restarts it, rather than stay up
     * answering nobody.
     */
    private static void watch(Server server, System.Logger log) {
        Thread.ofPlatform().daemon(true).name("watchdog").start(() -> {
            while (true) {
                try {
                    Thread.sleep(WATCHDOG_PERIOD);
                    java.util.List<String> fatal = server.fatalProblems();
                    if (!fatal.isEmpty()) {
                        log.log(ERROR, "fatal: " + String.join("; ", fatal) + "; exiting with status " + EXIT_FAILURE
                                + " so that a supervisor restarts the server (every acknowledged message is on disk)");
                        Runtime.getRuntime().halt(EXIT_FAILURE);
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Throwable e) { // the watchdog must outlive what it watches for
                    try {
                        log.log(ERROR, "watchdog: " + e);
                    } catch (Throwable outOfMemory) {
                        // the next look matters more than the line
                    }
                }
            }
        });
    }

    private static void usage(PrintStream out) {
        out.println("""
                usage: ./run.sh [command]
                  (no command), serve   run the MLLP server (configured by environment variables)
                  send [--to host:port] [--timeout 10s] [--count N] [--rate N] [--quiet] FILE...
                                        send HL7 messages and print each ACK's MSA line
                  journal list [--since 1h]   one line per journal record (works while the server runs)
                  journal show ID [--raw]     a record's message (ID: record id or position)
                  dlq list | show ID [--raw] | replay ID|--all [--to CONNECTOR] | purge ID|--all | status
                                        dead letters, also while the server runs
                  audit list [--since 1h] [--control-id X] [--event E] | export [--since T] | verify
                                        the audit trail: search, JSON lines for a SIEM, check the hash chain
                  logs [--level L] [--lines N] [--follow]
                                        the running server's recent log lines (LOG_BUFFER_LINES)
                  check [--messages DIR]      load the configuration and compile every rule and filter (exit 0 or 2);
                                        with --messages, a table of each message against each rule and connector
                  test                  run the whole test suite (run.sh only)
                  help                  this text

                environment variables (default):""");
        for (Variable v : Variable.values()) {
            out.printf("  %-24s %-12s %s%n", v.name(), v.defaultValue().isEmpty() ? "(empty)" : v.defaultValue(),
                    v.description().replace("`", ""));
        }
        out.println("""
                  CONNECTOR_<NAME>_<KEY>   a connector's TYPE (http, postgres, mllp, file), FILTER (CEL), URL, DIRECTORY or TABLE
                  VALIDATION_RULE_<NAME>   a validation rule (CEL); see the README for the variables rules can read""");
    }

    /** SIGTERM and SIGINT: the first asks for a drain, a second one stops at once. */
    static final class Signals {
        private Signals() {
        }

        static void onTermination(Runnable first, Runnable again) {
            AtomicInteger received = new AtomicInteger();
            sun.misc.SignalHandler handler = signal -> {
                if (received.incrementAndGet() == 1) first.run();
                else again.run();
            };
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
        }

        /** SIGHUP: reload the TLS files (nothing else; a server without TLS logs that there is nothing to reload). */
        static void onHangup(Runnable reload) {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> reload.run());
        }
    }
}
