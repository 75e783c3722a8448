package org.mllpserver.bench;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.GenericModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.mllpserver.hl7.MessageReader;
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
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The parse options the intake could use, on the messages that matter: the 20-OBX ORU^R01 of
 * test-data (v2.5.1) and a v2.3 ADT^A01 from the corpus. {@code serverRead} is what the server
 * does per frame (decode, checks, HAPI per segment); the {@code hapi*} methods are HAPI's own
 * {@code PipeParser.parse(String)} in each model/validation combination.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
public class ParseBenchmark {

    @Param({"test-data/messages/oru_r01.hl7", "src/test/resources/corpus/messages/hapi__ADT_A01__v2.3__1.hl7"})
    public String file;

    private byte[] bytes;
    private String text;
    private MessageReader reader;
    private PipeParser genericNoValidation;
    private PipeParser genericValidation;
    private PipeParser canonicalNoValidation;
    private PipeParser canonicalValidation;

    @Setup
    public void setUp() throws IOException, HL7Exception {
        bytes = Files.readAllBytes(Path.of(file));
        text = new String(bytes, StandardCharsets.UTF_8).replace("\r\n", "\r").replace('\n', '\r');
        reader = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));
        if (!(reader.read(bytes) instanceof MessageReader.Parsed)) throw new IllegalStateException(file + " is refused");
        genericNoValidation = parser(false, false);
        genericValidation = parser(false, true);
        canonicalNoValidation = parser(true, false);
        canonicalValidation = parser(true, true);
        for (PipeParser p : new PipeParser[]{genericNoValidation, genericValidation, canonicalNoValidation, canonicalValidation}) {
            p.parse(text); // fails the run at set-up if an option cannot read the message at all
        }
    }

    private static PipeParser parser(boolean canonical, boolean validation) {
        HapiContext context = new DefaultHapiContext();
        context.setModelClassFactory(canonical ? new CanonicalModelClassFactory("2.5") : new GenericModelClassFactory());
        if (!validation) context.setValidationContext(ValidationContextFactory.noValidation());
        return context.getPipeParser();
    }

    @Benchmark
    public MessageReader.Result serverRead() {
        return reader.read(bytes);
    }

    /** The read, then HAPI parsing every segment: what reading every value of the message would cost. */
    @Benchmark
    public int serverReadThenHapiEverySegment() throws HL7Exception {
        return ((MessageReader.Parsed) reader.read(bytes)).message().parseAllSegments();
    }

    @Benchmark
    public Message hapiGenericNoValidation() throws HL7Exception {
        return genericNoValidation.parse(text);
    }

    @Benchmark
    public Message hapiGenericValidation() throws HL7Exception {
        return genericValidation.parse(text);
    }

    @Benchmark
    public Message hapiCanonicalV25NoValidation() throws HL7Exception {
        return canonicalNoValidation.parse(text);
    }

    @Benchmark
    public Message hapiCanonicalV25Validation() throws HL7Exception {
        return canonicalValidation.parse(text);
    }
}
