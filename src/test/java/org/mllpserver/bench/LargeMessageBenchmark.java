package org.mllpserver.bench;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
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

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * How parse cost grows with the size of a lab report whose results alternate OBX and NTE (the
 * usual shape): the server's read, the read plus HAPI parsing every segment on its own, and
 * HAPI's own whole-message parse. 12 000 pairs is about 200 000 values, near the per-message
 * budget of 250 000.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
public class LargeMessageBenchmark {

    @Param({"1000", "4000", "12000"})
    public int results;

    private byte[] bytes;
    private String text;
    private MessageReader reader;
    private PipeParser hapi;

    @Setup
    public void setUp() {
        StringBuilder report = new StringBuilder("MSH|^~\\&|LAB|L|RCV|R|20260101||ORU^R01^ORU_R01|BIG|P|2.5.1\rPID|1||1\rOBR|1\r");
        for (int i = 1; i <= results; i++) {
            report.append("OBX|").append(i).append("|NM|2345-7^Glucose^LN||98|mg/dL|70-99|N|||F\rNTE|1||reviewed\r");
        }
        text = report.toString();
        bytes = text.getBytes(StandardCharsets.US_ASCII);
        reader = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));
        if (!(reader.read(bytes) instanceof MessageReader.Parsed)) {
            throw new IllegalStateException(results + " results are refused (over the value budget?): that would measure a refusal");
        }
        HapiContext context = new DefaultHapiContext();
        context.setModelClassFactory(new GenericModelClassFactory());
        context.setValidationContext(ValidationContextFactory.noValidation());
        hapi = context.getPipeParser();
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
        return hapi.parse(text);
    }
}
