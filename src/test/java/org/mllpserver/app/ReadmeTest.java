package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.config.Variable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keeps the README's promises in step with the code. */
class ReadmeTest {

    private static String readme() throws IOException {
        return Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    }

    @Test
    void documentsEveryEnvironmentVariableWithItsDefault() throws IOException {
        String readme = readme();
        for (Variable v : Variable.values()) {
            String defaultCell = v.defaultValue().isEmpty() ? "(empty)" : "`" + v.defaultValue() + "`";
            assertTrue(readme.contains("| `" + v.name() + "` | " + defaultCell + " |"), v.name() + " with default " + defaultCell);
        }
    }

    @Test
    void showsTheTwoCommands() throws IOException {
        String readme = readme();
        assertTrue(readme.contains("./run.sh          #") && readme.contains("./run.sh test     #"));
        String ci = Files.readString(Path.of(".ci", "run"), StandardCharsets.UTF_8);
        assertTrue(ci.contains("./run.sh test"), ".ci/run calls the README's test command");
    }
}
