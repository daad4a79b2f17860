package io.capmesh.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Working directories of the suite. */
final class Directories {

    private Directories() {
    }

    /**
     * An empty directory at {@code dir}: what an earlier run left there goes first. A runtime restores what its data
     * directory holds, so a reused one would serve the packages of that run, not those of the jars measured now.
     */
    static Path fresh(Path dir) throws IOException {
        delete(dir);
        return Files.createDirectories(dir);
    }

    /** Deletes the directory and everything in it, if it exists. */
    static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
