package org.mllpserver.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The public sample corpus copied into src/test/resources/corpus (see its SOURCES.md for each
 * file's repository, commit and licence) and its INDEX.tsv.
 */
public final class Corpus {

    private static final Path ROOT = root();
    private static final Map<String, String> CONTROL_IDS = readIndex();

    private Corpus() {
    }

    /** Files of one folder ("messages", "edge", "malformed", "batch"), sorted. */
    public static List<Path> files(String folder) {
        try (Stream<Path> files = Files.list(ROOT.resolve(folder))) {
            return files.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "folder/name" as INDEX.tsv names it. */
    public static String name(Path file) {
        return file.getParent().getFileName() + "/" + file.getFileName();
    }

    /** MSH-10 as INDEX.tsv records it (read by the corpus's own tooling, not by our code). */
    public static String indexedControlId(Path file) {
        String id = CONTROL_IDS.get(name(file));
        if (id == null) throw new IllegalArgumentException("not in INDEX.tsv: " + name(file));
        return id;
    }

    public static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path root() {
        try {
            return Path.of(Corpus.class.getResource("/corpus/INDEX.tsv").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> readIndex() {
        try {
            Map<String, String> ids = new HashMap<>();
            List<String> lines = Files.readAllLines(ROOT.resolve("INDEX.tsv"), StandardCharsets.UTF_8);
            for (String line : lines.subList(1, lines.size())) {
                String[] columns = line.split("\t", -1);
                ids.put(columns[0], columns[3]);
            }
            return ids;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
