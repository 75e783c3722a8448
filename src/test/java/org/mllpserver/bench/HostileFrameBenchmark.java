package org.mllpserver.bench;

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
 * Time to answer a 4 MiB frame (the default MAX_FRAME_SIZE) shaped to make HAPI slow or
 * hungry. HAPI alone needs more than ten minutes for the first shape; the server's checks
 * refuse those shapes before HAPI sees them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "-Xmx1g"})
public class HostileFrameBenchmark {

    @Param({"components", "subcomponents", "repetitions", "fields", "segments", "escapes", "one_huge_field"})
    public String shape;

    private byte[] bytes;
    private MessageReader reader;

    @Setup
    public void setUp() {
        StringBuilder frame = new StringBuilder("MSH|^~\\&|A|B|C|D|20260101||ORU^R01|H1|P|2.5\rPID|1\rOBR|1\r");
        String[] prefixAndUnit = switch (shape) {
            case "components" -> new String[]{"OBX|1|ST|X||", "a^"};
            case "subcomponents" -> new String[]{"OBX|1|ST|X||", "a&"};
            case "repetitions" -> new String[]{"OBX|1|ST|X||", "a~"};
            case "fields" -> new String[]{"ZZZ", "|a"};
            case "segments" -> new String[]{"", "OBX|1|ST|X||v\rNTE|1\r"};
            case "escapes" -> new String[]{"OBX|1|ST|X||", "\\F\\"};
            default -> new String[]{"OBX|1|ST|X||", "abcdefgh"};
        };
        frame.append(prefixAndUnit[0]);
        while (frame.length() < 4 << 20) frame.append(prefixAndUnit[1]);
        bytes = frame.toString().getBytes(StandardCharsets.US_ASCII);
        reader = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));
    }

    @Benchmark
    public MessageReader.Result serverRead() {
        return reader.read(bytes);
    }
}
