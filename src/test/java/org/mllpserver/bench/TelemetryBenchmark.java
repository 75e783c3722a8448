package org.mllpserver.bench;

import org.mllpserver.events.Events;
import org.mllpserver.telemetry.Gauges;
import org.mllpserver.telemetry.Telemetry;
import org.mllpserver.telemetry.TelemetrySettings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The telemetry's cost per message (target: at most 1 µs): everything one message reports,
 * {@code frameAnswered} + {@code ackWritten} + {@code rulesEvaluated} + a sixteenth of
 * {@code journalForced} (one force per 16 records, the journal's group commit at 16
 * connections). The frames cycle through 16 prebuilt facts (ADT, ORU, ORM, SIU, an unknown type,
 * AA/AR/CA/AE, one duplicate); one message in 16 fails a rule.
 *
 * <p>{@code readers}: {@code scrape} is the pull reader alone (no OTLP endpoint);
 * {@code scrape+otlp} adds the OTLP reader, so every instrument aggregates twice (its interval
 * is 5 minutes and the endpoint refuses, so no export runs while measuring). {@code noListener}
 * makes the same calls on {@link Events#NONE}: the loop's own cost. {@code twoThreads}: two
 * threads reporting at once into the same series (this machine has 2 cores).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
public class TelemetryBenchmark {

    private static final int FORCE_EVERY = 16;
    private static final List<String> NO_FAILURES = List.of();
    private static final List<String> ONE_FAILURE = List.of("require-pid");

    @Param({"scrape", "scrape+otlp"})
    public String readers;

    private Telemetry telemetry;
    private Events.FrameAnswered[] frames;

    /** Each thread's place in the cycle of frames. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    @Setup
    public void setUp() {
        Map<String, String> env = readers.equals("scrape") ? Map.of() : Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9", "OTEL_METRIC_EXPORT_INTERVAL", "300000");
        telemetry = new Telemetry(TelemetrySettings.fromEnvironment(env), Set.of("require-pid", "known-type"), Gauges.NONE, Clock.systemUTC());
        frames = frames();
        Cursor warm = new Cursor();
        for (int i = 0; i < FORCE_EVERY; i++) message(telemetry, warm); // every series exists before anything is measured
    }

    @TearDown
    public void tearDown() {
        telemetry.close();
    }

    private static Events.FrameAnswered[] frames() {
        String[][] typeAndAck = {{"ADT", "AA"}, {"ORU", "AA"}, {"ADT", "AA"}, {"ORM", "CA"}, {"ADT", "AA"}, {"SIU", "AA"},
                {"ORU", "AR"}, {"ADT", "AA"}, {"ZZZ", "AE"}, {"ADT", "AA"}, {"ORU", "AA"}, {"MDM", "AA"}, {"ADT", "AA"},
                {"DFT", "AA"}, {"ORU", "AA"}, {"ADT", "AA"}};
        Events.FrameAnswered[] frames = new Events.FrameAnswered[typeAndAck.length];
        for (int i = 0; i < frames.length; i++) {
            Events.FrameOutcome outcome = i == 10 ? Events.FrameOutcome.DUPLICATE : Events.FrameOutcome.ACCEPTED;
            frames[i] = new Events.FrameAnswered(Instant.now(), "10.0.0.1:5000", "", outcome, typeAndAck[i][1], "LAB", "HOSP",
                    typeAndAck[i][0], "CTRL" + i, Optional.of(UUID.randomUUID()), i * 2048L,
                    "MSH|".getBytes(StandardCharsets.US_ASCII), List.of());
        }
        return frames;
    }

    private void message(Events events, Cursor cursor) {
        int n = cursor.next++ & (FORCE_EVERY - 1);
        events.frameAnswered(frames[n]);
        events.rulesEvaluated(35_000, n == 6 ? ONE_FAILURE : NO_FAILURES);
        events.ackWritten("plain", 280_000 + n * 1_000);
        if (n == 0) events.journalForced(FORCE_EVERY, FORCE_EVERY * 2048L, 130_000);
    }

    @Benchmark
    public void perMessage(Cursor cursor) {
        message(telemetry, cursor);
    }

    @Benchmark
    @Threads(2)
    public void perMessageTwoThreads(Cursor cursor) {
        message(telemetry, cursor);
    }

    @Benchmark
    public void noListener(Cursor cursor) {
        message(Events.NONE, cursor);
    }

    /** One scrape of /metrics with every series above present: what a Prometheus poll costs (not per message). */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String scrape() {
        return telemetry.prometheusText();
    }
}
