package org.mllpserver.app;

import org.junit.jupiter.api.Test;
import org.mllpserver.audit.AuditKind;
import org.mllpserver.audit.AuditReader;
import org.mllpserver.admin.LogBuffer;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The audit across a clean restart of a real server: sealed with the journal's end, so the next start reads none of the journal. */
class AuditRestartTest {

    @Test
    void aCleanStopLeavesTheNextStartNothingToRebuild() throws Exception {
        Path data = Files.createTempDirectory("mllp-audit-restart-");
        try {
            for (int run = 0; run < 2; run++) {
                try (TestServer server = TestServer.start("DATA_DIR", data.toString())) {
                    if (run == 1) {
                        String lines = String.join("\n", server.server().logs().recent(Level.ALL, 10_000).stream()
                                .map(LogBuffer.Line::text).toList());
                        assertTrue(lines.contains("nothing to rebuild"), lines);
                    }
                    try (MllpClient client = server.connect()) {
                        for (int i = 0; i < 3; i++) {
                            assertEquals("AA", Hl7Text.of(client.exchange(ServerProcessTest.adt("R" + run + "-" + i))).ackCode());
                        }
                    }
                }
            }
            List<String> accepted = new ArrayList<>();
            AuditReader.forEach(data.resolve("audit"), r -> {
                if (r.event().kind() == AuditKind.ACCEPTED) {
                    assertTrue(!r.event().recovered(), "recorded live");
                    accepted.add(r.event().header().controlId());
                }
            });
            assertEquals(List.of("R0-0", "R0-1", "R0-2", "R1-0", "R1-1", "R1-2"), accepted);
        } finally {
            TestServer.deleteRecursively(data);
        }
    }
}
