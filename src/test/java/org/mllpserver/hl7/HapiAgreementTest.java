package org.mllpserver.hl7;

import ca.uhn.hl7v2.HL7Exception;
import org.junit.jupiter.api.Test;
import org.mllpserver.testing.Corpus;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HAPI parses a segment only when a value of it is read. That is safe only if HAPI can parse
 * every segment of every message our checks accept: shown here over the whole corpus and over
 * seeded mutations of it.
 */
class HapiAgreementTest {

    private final MessageReader reader = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));

    @Test
    void hapiParsesEverySegmentOfEveryAcceptedCorpusMessage() throws HL7Exception {
        int accepted = 0;
        for (String folder : List.of("messages", "edge", "malformed", "batch")) {
            for (Path file : Corpus.files(folder)) {
                if (reader.read(Corpus.bytes(file)) instanceof MessageReader.Parsed parsed) {
                    assertTrue(parsed.message().parseAllSegments() > 0, Corpus.name(file));
                    accepted++;
                }
            }
        }
        assertTrue(accepted > 300, accepted + " accepted");
    }

    /**
     * Our own reading of values (what the rules use: split on the delimiters, HAPI's Escape for
     * escapes) gives what HAPI's Terser gives, for every field, component and subcomponent of the
     * first five repetitions of every segment of every accepted corpus message.
     */
    @Test
    void ourValueReadingAgreesWithHapisTerserOnTheWholeCorpus() {
        List<String> disagreements = new ArrayList<>();
        long compared = 0;
        for (String folder : List.of("messages", "edge", "malformed")) {
            for (Path file : Corpus.files(folder)) {
                if (!(reader.read(Corpus.bytes(file)) instanceof MessageReader.Parsed parsed)) continue;
                ParsedMessage m = parsed.message();
                java.util.Map<String, Integer> occurrences = new java.util.HashMap<>();
                for (String id : segmentIds(m)) {
                    int occurrence = occurrences.merge(id, 1, Integer::sum);
                    for (int field = 1; field <= 40; field++) {
                        for (int component = 1; component <= 12; component++) {
                            for (int sub = 1; sub <= 4; sub++) {
                                String terser = m.value(id, occurrence, field, component, sub).orElse("");
                                String ours = m.get(id, occurrence, field, 1, component, sub);
                                compared++;
                                if (!terser.equals(ours) && disagreements.size() < 20) {
                                    disagreements.add(Corpus.name(file) + " " + id + "(" + occurrence + ")-" + field + "." + component
                                            + "." + sub + ": HAPI \"" + terser + "\", ours \"" + ours + "\"");
                                }
                            }
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), disagreements, compared + " values compared");
    }

    private static List<String> segmentIds(ParsedMessage m) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < m.segmentCount(); i++) ids.add(m.segmentId(i));
        return ids;
    }

    @Test
    void hapiParsesEveryMutatedMessageOurChecksAccept() {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("HapiAgreementTest: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        Random random = new Random(seed);
        List<byte[]> corpus = new ArrayList<>();
        for (String folder : List.of("messages", "edge", "malformed")) for (Path f : Corpus.files(folder)) corpus.add(Corpus.bytes(f));
        byte[] alphabet = "|^~\\&\r\nMSHPIDOBX0123456789 aZ.#\"\u0000\u001B$(B".getBytes(StandardCharsets.ISO_8859_1);
        List<String> disagreements = new ArrayList<>();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] mutated = corpus.get(random.nextInt(corpus.size())).clone();
            for (int e = 1 + random.nextInt(4); e > 0 && mutated.length > 0; e--) {
                mutated[random.nextInt(mutated.length)] = alphabet[random.nextInt(alphabet.length)];
            }
            if (!(reader.read(mutated) instanceof MessageReader.Parsed parsed)) continue;
            accepted++;
            try {
                parsed.message().parseAllSegments();
            } catch (HL7Exception | RuntimeException e) {
                disagreements.add("mutation " + i + ": " + e);
            }
        }
        assertTrue(accepted > 5_000, accepted + " mutations accepted");
        assertEquals(List.of(), disagreements, "seed " + seed);
    }
}
