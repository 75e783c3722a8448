package org.mllpserver.telemetry;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenTelemetry is used only in org.mllpserver.telemetry, so the rest of the server never depends on it. */
class OpenTelemetryFenceTest {

    private static final Path SOURCES = Path.of("src/main/java");
    private static final Path TELEMETRY = SOURCES.resolve("org/mllpserver/telemetry");

    @Test
    void noOtherPackageMentionsOpenTelemetry() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            List<Path> others = files.filter(f -> f.toString().endsWith(".java") && !f.startsWith(TELEMETRY)).toList();
            assertTrue(others.size() > 50, "the sources were found: " + others.size());
            assertEquals(List.of(), others.stream().filter(OpenTelemetryFenceTest::mentionsOpenTelemetry).toList());
        }
    }

    @Test
    void thePublicApiShowsNoOpenTelemetryType() {
        for (Class<?> api : List.of(Telemetry.class, TelemetrySettings.class, TelemetrySettings.Invalid.class, Gauges.class)) {
            Stream<Executable> members = Stream.concat(Arrays.stream(api.getConstructors()), Arrays.stream(api.getMethods()));
            members.forEach(member -> {
                Stream.concat(Arrays.stream(member.getGenericParameterTypes()), member instanceof Method m ? Stream.of(m.getGenericReturnType()) : Stream.empty())
                        .forEach(type -> assertFalse(type.getTypeName().contains("io.opentelemetry"), api.getSimpleName() + ": " + member));
            });
        }
    }

    private static boolean mentionsOpenTelemetry(Path file) {
        try {
            return Files.readString(file).contains("io.opentelemetry");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }
}
