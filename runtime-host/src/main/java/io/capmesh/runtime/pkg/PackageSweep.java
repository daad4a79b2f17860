package io.capmesh.runtime.pkg;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The runtime's scheduled maintenance of what it keeps on disk for packages: the jars source packages compiled to
 * ({@link CompiledPackages}) and the copies of accepted packages, each removed once unused for a while. A file is
 * used when an extension loaded, hibernated or available for loading on demand has it, and a compiled jar is used
 * again each time a deploy or a restore finds it (its modification time). The store's own copies are not touched:
 * whatever was deployed stays deployed, and comes back from the store.
 */
public final class PackageSweep {

    /**
     * When to sweep.
     *
     * @param unusedFor how long a file must have been unused to go
     * @param every     how often to look
     */
    public record Settings(Duration unusedFor, Duration every) {
        public static final Settings DEFAULT = new Settings(Duration.ofHours(24), Duration.ofHours(6));

        public Settings {
            if (unusedFor.isNegative() || unusedFor.isZero() || every.isNegative() || every.isZero()) {
                throw new IllegalArgumentException("the sweep's unused-for and every must be positive; got "
                        + unusedFor + " and " + every);
            }
        }
    }

    private final List<Path> directories;
    private final Supplier<Set<Path>> inUse;
    private final Clock clock;

    /**
     * @param directories where package files are kept: the accepted jars' and the compiled ones'
     * @param inUse       the files extensions have now
     */
    public PackageSweep(List<Path> directories, Supplier<Set<Path>> inUse, Clock clock) {
        this.directories = List.copyOf(directories);
        this.inUse = inUse;
        this.clock = clock;
    }

    /** Removes the jars unused for longer than {@code unusedFor}; returns those it removed. */
    public List<Path> sweep(Duration unusedFor) {
        Instant before = clock.instant().minus(unusedFor);
        Set<Path> used = inUse.get().stream().map(path -> path.toAbsolutePath().normalize())
                .collect(java.util.stream.Collectors.toSet());
        List<Path> swept = new ArrayList<>();
        for (Path directory : directories) {
            if (!Files.isDirectory(directory)) {
                continue;
            }
            try (Stream<Path> files = Files.list(directory)) {
                for (Path file : files.filter(file -> file.getFileName().toString().endsWith(".jar")).toList()) {
                    try {
                        if (!used.contains(file.toAbsolutePath().normalize())
                                && Files.getLastModifiedTime(file).toInstant().isBefore(before)) {
                            Files.delete(file);
                            swept.add(file);
                        }
                    } catch (NoSuchFileException gone) {
                        // removed meanwhile
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot sweep " + directory, e);
            }
        }
        return swept;
    }
}
