package org.mllpserver.intake;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.mllpserver.journal.JournalReader;
import org.mllpserver.journal.RecordType;
import org.mllpserver.journal.StoredMessage;
import org.mllpserver.mllp.MllpClient;
import org.mllpserver.testing.FaultyDisk;
import org.mllpserver.testing.Hl7Text;
import org.mllpserver.testing.TestServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nothing is acknowledged that is not durable; the server stays up and accepts again when the disk recovers. */
class StorageFailureTest {

    @Test
    void aStorageFaultAnswersAeAndTheSameConnectionGetsAaOnceTheDiskRecovers() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        try (TestServer server = TestServer.start(disk); MllpClient client = server.connect()) {
            assertEquals("AA", Hl7Text.of(client.exchange(adt("DISK-1"))).ackCode());
            for (FaultyDisk.Fault fault : List.of(FaultyDisk.Fault.WRITE, FaultyDisk.Fault.FORCE, FaultyDisk.Fault.PARTIAL_WRITE)) {
                disk.fail(fault);
                Hl7Text nak = Hl7Text.of(client.exchange(adt("LOST-" + fault)));
                assertEquals("AE", nak.ackCode(), fault.name());
                assertTrue(nak.segment("ERR").contains("207^Application internal error^HL70357")
                        && nak.segment("ERR").contains("could not be stored durably"), nak.segment("ERR"));
                disk.heal();
                assertEquals("AA", Hl7Text.of(client.exchange(adt("AFTER-" + fault))).ackCode(), fault.name());
                assertEquals("AA", Hl7Text.of(client.exchange(adt("LOST-" + fault))).ackCode(),
                        "the message that got AE is accepted when sent again (it was not stored, so it is no duplicate)");
            }
            server.stop();
            assertEquals(List.of("DISK-1", "AFTER-WRITE", "LOST-WRITE", "AFTER-FORCE", "LOST-FORCE", "AFTER-PARTIAL_WRITE",
                    "LOST-PARTIAL_WRITE"), storedControlIds(server.journalDir()));
        }
    }

    @Test
    void aRealFullFilesystemAnswersAeWithoutLosingAnAcknowledgedMessageAndRecovers() throws Exception {
        Path mount = Files.createTempDirectory("mllp-full-disk-");
        String how = SmallFilesystem.mount(mount, 8);
        Assumptions.assumeTrue(how != null, "cannot mount a small filesystem here (needs root and mount): " + SmallFilesystem.lastError);
        System.out.println("StorageFailureTest: full-disk test on " + how);
        try {
            Path ballast = mount.resolve("ballast");
            Set<String> acknowledged = new HashSet<>();
            try (TestServer server = TestServer.start("DATA_DIR", mount.resolve("data").toString(), "JOURNAL_SEGMENT_SIZE", "256KiB");
                 MllpClient client = server.connect()) {
                SmallFilesystem.fillLeaving(ballast, mount, 256 * 1024);
                int refused = 0;
                for (int i = 0; i < 5_000 && refused == 0; i++) {
                    Hl7Text ack = Hl7Text.of(client.exchange(oru("FULL-" + i)));
                    if (ack.ackCode().equals("AA")) acknowledged.add("FULL-" + i);
                    else refused++;
                }
                assertTrue(refused > 0, "the disk filled up within 5 000 messages");
                Files.delete(ballast);
                Hl7Text again = Hl7Text.of(client.exchange(oru("AFTER-FULL")));
                assertEquals("AA", again.ackCode(), "accepting again once there is space");
                acknowledged.add("AFTER-FULL");
                server.stop();
                Set<String> stored = new HashSet<>(storedControlIds(server.journalDir()));
                assertTrue(stored.containsAll(acknowledged), "every AA'd message is in the journal");
            }
        } finally {
            SmallFilesystem.unmount(mount);
        }
    }

    static List<String> storedControlIds(Path journal) throws IOException {
        List<String> ids = new ArrayList<>();
        JournalReader.read(journal, 0, e -> {
            if (e.type() == RecordType.MESSAGE) ids.add(StoredMessage.decode(e.body()).controlId());
        });
        return ids;
    }

    private static byte[] adt(String controlId) {
        return ("MSH|^~\\&|TEST|TEST|MLLP|SERVER|20260101120000||ADT^A01^ADT_A01|" + controlId + "|P|2.5\r"
                + "EVN|A01|20260101120000\rPID|1||42^^^TEST^MR||Test^Patient\rPV1|1|I\r").getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] oru(String controlId) throws IOException {
        String text = Files.readString(Path.of("test-data/messages/oru_r01.hl7"), StandardCharsets.UTF_8);
        return text.replace("ORU-R01-0001", controlId).getBytes(StandardCharsets.UTF_8);
    }

    /** A small real file system for the full-disk test: loop-mounted ext4, else tmpfs. */
    static final class SmallFilesystem {
        static String lastError = "";

        /** Mounts a {@code megabytes} file system at {@code at}; returns how, or null when neither works. */
        static String mount(Path at, int megabytes) throws IOException, InterruptedException {
            Path image = at.resolveSibling(at.getFileName() + ".img");
            if (run("truncate", "-s", megabytes + "M", image.toString()) && run("mkfs.ext4", "-q", "-F", image.toString())
                    && run("mount", "-o", "loop", image.toString(), at.toString())) {
                return "a loop-mounted " + megabytes + " MiB ext4";
            }
            Files.deleteIfExists(image);
            if (run("mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m", "tmpfs", at.toString())) return "a " + megabytes + " MiB tmpfs";
            return null;
        }

        static void unmount(Path at) throws IOException, InterruptedException {
            run("umount", at.toString());
            Files.deleteIfExists(at.resolveSibling(at.getFileName() + ".img"));
            TestServer.deleteRecursively(at);
        }

        /** Writes {@code ballast} until the file system has about {@code leave} bytes free. */
        static void fillLeaving(Path ballast, Path mount, long leave) throws IOException {
            long free = Files.getFileStore(mount).getUsableSpace();
            long size = Math.max(0, free - leave);
            try (var out = Files.newOutputStream(ballast)) {
                byte[] block = new byte[64 * 1024];
                for (long written = 0; written < size; written += block.length) out.write(block, 0, (int) Math.min(block.length, size - written));
            }
        }

        private static boolean run(String... command) throws IOException, InterruptedException {
            Process p;
            try {
                p = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException notInstalled) {
                lastError = command[0] + ": " + notInstalled.getMessage();
                return false;
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            boolean ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
            if (!ok) lastError = String.join(" ", command) + ": " + output.strip();
            return ok;
        }
    }
}
