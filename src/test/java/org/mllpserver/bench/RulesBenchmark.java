package org.mllpserver.bench;

import org.mllpserver.hl7.MessageReader;
import org.mllpserver.rules.RuleSet;
import org.mllpserver.rules.RulesException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The seed's promise, "under 100 µs per message": reading the 20-OBX ORU^R01 of test-data, taking
 * out the variables and evaluating 5 typical validation rules and 3 connector filters
 * ({@code readAndEvaluate}); {@code readOnly} is the read alone, so the difference is the rules'
 * cost. {@link Compile} measures building the CEL environment and compiling them in a fresh JVM.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
public class RulesBenchmark {

    static final List<RuleSet.Named> RULES = List.of(
            new RuleSet.Named("require-patient-id", "pid.id != \"\""),
            new RuleSet.Named("known-type", "msh.msg_type in [\"ADT\", \"ORU\", \"ORM\", \"SIU\"]"),
            new RuleSet.Named("production", "msh.processing_id == \"P\""),
            new RuleSet.Named("results-final", "obx_list.all(o, o.status in [\"F\", \"C\", \"P\"])"),
            new RuleSet.Named("patient-named", "pid.family_name != \"\" && pid.dob.matches(\"^[0-9]{8}\") && field(\"ORC-2.1\") != \"\""));
    static final List<RuleSet.Named> FILTERS = List.of(
            new RuleSet.Named("ehr-ingest", "msh.msg_type == \"ADT\""),
            new RuleSet.Named("lab-archive", "msh.msg_type == \"ORU\""),
            new RuleSet.Named("critical", "obx_list.exists(o, o.abnormal_flags in [\"HH\", \"LL\"])"));

    private byte[] bytes;
    private MessageReader reader;
    private RuleSet rules;

    @Setup
    public void setUp() throws IOException, RulesException {
        bytes = Files.readAllBytes(Path.of("test-data/messages/oru_r01.hl7"));
        reader = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));
        rules = RuleSet.compile(RULES, FILTERS, new RuleSet.Limits(1000, 100_000));
        if (!(rules.evaluate(read().message()) instanceof RuleSet.Accepted accepted) || !accepted.connectors().equals(List.of("lab-archive"))) {
            throw new IllegalStateException("the sample ORU should pass every rule and go to lab-archive only");
        }
    }

    private MessageReader.Parsed read() {
        return (MessageReader.Parsed) reader.read(bytes);
    }

    @Benchmark
    public MessageReader.Result readOnly() {
        return reader.read(bytes);
    }

    @Benchmark
    public RuleSet.Verdict readAndEvaluate() {
        return rules.evaluate(read().message());
    }

    /** Cold start: a new JVM per measurement, building the environment and compiling the 8 expressions once. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    @Fork(value = 5, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
    public static class Compile {
        @Benchmark
        public RuleSet compileCold() throws RulesException {
            return RuleSet.compile(RULES, FILTERS, new RuleSet.Limits(1000, 100_000));
        }
    }
}
