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
 * ({@link CompiledPackages}) and the copies of accepted packages, each removed once unused for a while. A file's
 * modification time is when it was last used: a read that writes or finds it sets it, and so does each sweep for
 * the files an extension loaded, hibernated or available for loading on demand has then. The sweep runs while no
 * package is being read. The store's own copies are not touched: whatever was deployed stays deployed, and comes
 * back from the store.
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

    private static final System.Logger LOG = System.getLogger(PackageSweep.class.getName());

    private final List<Path> directories;
    private final Supplier<Set<Path>> inUse;
    private final PackageReader reader;
    private final Clock clock;

    /**
     * @param directories where package files are kept: the accepted jars' and the compiled ones'
     * @param inUse       the files extensions have now
     * @param reader      whose reads the sweep waits out
     */
    public PackageSweep(List<Path> directories, Supplier<Set<Path>> inUse, PackageReader reader, Clock clock) {
        this.directories = List.copyOf(directories);
        this.inUse = inUse;
        this.reader = reader;
        this.clock = clock;
    }

    /** Removes the jars unused for longer than {@code unusedFor}; returns those it removed. */
    public List<Path> sweep(Duration unusedFor) {
        return reader.whileNoneIsRead(() -> sweepUnread(unusedFor));
    }

    private List<Path> sweepUnread(Duration unusedFor) {
        Instant now = clock.instant();
        Instant before = now.minus(unusedFor);
        Set<Path> used = inUse.get().stream().map(path -> path.toAbsolutePath().normalize())
                .collect(java.util.stream.Collectors.toSet());
        for (Path file : used) { // used now: so a version unloaded later is kept a whole period from then
            try {
                Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(now));
            } catch (IOException e) {
                // gone, or not this process's to touch: nothing the sweep would delete then
            }
        }
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
                    } catch (IOException e) { // one file kept (its permissions, a lock) keeps no other
                        LOG.log(System.Logger.Level.WARNING, "the sweep could not remove " + file + ": " + e);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot sweep " + directory, e);
            }
        }
        return swept;
    }
}
