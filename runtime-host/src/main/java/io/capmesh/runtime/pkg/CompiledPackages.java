package io.capmesh.runtime.pkg;

import io.capmesh.runtime.Problem;
import io.grpc.Status;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The jars source packages compiled to, one file per key: the source package's content hash and the compile's
 * environment ({@link SourceCompiler#environment}), and used while the host classes it was compiled against are
 * unchanged. A restart, a re-deploy of the same sources and a wake from hibernation find the jar here and load it
 * without compiling. A file's modification time is when it was last
 * used, for the sweep that removes those unused for long.
 */
public final class CompiledPackages {

    /**
     * Each host class the compile read, with its digest: a cached jar is used only while they are the same, so a
     * runtime upgraded under its data directory compiles again instead of loading classes made for another API.
     */
    static final String COMPILED_AGAINST = "META-INF/capmesh/compiled-against";

    /** A compiled jar's entries all carry this time, so that the same sources compile to the same bytes. */
    private static final long ENTRY_TIME = 0L;

    private final Path directory;
    private final SourceCompiler compiler;
    private final Clock clock;

    public CompiledPackages(Path directory, SourceCompiler compiler, Clock clock) {
        this.directory = directory;
        this.compiler = compiler;
        this.clock = clock;
    }

    /** What a lookup found: the compiled jar, and how long compiling it took just now (0: it was in the cache). */
    public record Compiled(Path jar, long compileMicros) {
    }

    /**
     * The jar these sources compile to: the cached one, or compiled now and kept.
     *
     * @param packageSha256 the source package's content hash
     */
    public Compiled compiled(String packageSha256, SourceFiles source, String name) {
        Path jar = directory.resolve(key(packageSha256) + ".jar");
        try {
            if (Files.isRegularFile(jar) && compiler.unchangedSince(compiledAgainst(jar)) && touch(jar)) {
                return new Compiled(jar, 0);
            }
            long start = System.nanoTime();
            SourceCompiler.Output output = compiler.compile(source.sources(), source.bundled(), name);
            check(output.classes(), source, name);
            Files.createDirectories(directory);
            Path staged = Files.createTempFile(directory, "compiling-", ".jar");
            try {
                write(staged, source, output);
                Files.move(staged, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(staged);
            }
            return new Compiled(jar, Math.max(1, (System.nanoTime() - start) / 1000));
        } catch (IOException e) {
            throw new Problem(Status.Code.UNAVAILABLE, "cannot keep the compiled " + name + " in " + directory + ": "
                    + e).toException();
        }
    }

    /** Marks a cached jar used now, for the sweep; false when it cannot be (gone, or not this process's). */
    private boolean touch(Path jar) {
        try {
            Files.setLastModifiedTime(jar, FileTime.from(clock.instant()));
            return true;
        } catch (IOException e) {
            return false; // compiled again, and written anew
        }
    }

    /** The host classes a cached jar was compiled against, as the compile recorded them; empty if unreadable. */
    private static Map<String, String> compiledAgainst(Path jar) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(COMPILED_AGAINST);
            if (entry == null) {
                return null;
            }
            Map<String, String> digests = new TreeMap<>();
            new String(zip.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(line -> line.split(" ", 2)).filter(parts -> parts.length == 2)
                    .forEach(parts -> digests.put(parts[1], parts[0]));
            return digests;
        } catch (IOException e) {
            return null;
        }
    }

    private String key(String packageSha256) {
        return HexFormat.of().formatHex(PackageReader.sha256().digest((packageSha256 + "\n"
                + compiler.environment()).getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * What the sources declare must be theirs to declare, the entry class must be among them, and none of them may
     * end the runtime's process (a jar's own package is checked the same way; here every compiled class is the
     * author's).
     */
    private void check(Map<String, byte[]> classes, SourceFiles source, String name) {
        ExtensionManifest manifest = source.manifest();
        List<String> exits = new ArrayList<>();
        classes.forEach((entry, bytes) -> PackageReader.forbiddenCalls(bytes, entry, exits));
        PackageReader.refuseExits(exits, manifest, name);
        List<String> intruding = java.util.stream.Stream.concat(classes.keySet().stream(),
                        source.bundled().keySet().stream()).map(entry -> entry.replace('/', '.'))
                .filter(type -> compiler.sharedPackages().stream().anyMatch(type::startsWith)).sorted().toList();
        if (!intruding.isEmpty()) {
            throw Problem.invalid(name + " declares " + intruding.get(0).replaceAll("\\.class$", "")
                    + (intruding.size() > 1 ? " and " + (intruding.size() - 1) + " more" : "")
                    + " in a package the host shares with every extension (" + String.join(", ",
                    compiler.sharedPackages()) + "); those classes always come from the host, so move it to a"
                    + " package of your own").toException();
        }
        String entry = manifest.entryClass().replace('.', '/') + ".class";
        if (!classes.containsKey(entry)) {
            throw Problem.invalid(name + ": the manifest's entryClass " + manifest.entryClass()
                    + " is not among the compiled classes (" + String.join(", ", new TreeMap<>(classes).keySet())
                    + ")").toException();
        }
    }

    private static void write(Path jar, SourceFiles source, SourceCompiler.Output output) throws IOException {
        Map<String, byte[]> entries = new TreeMap<>(source.bundled()); // sorted: the same sources, the same bytes
        entries.putAll(source.resources());
        entries.putAll(output.classes());
        entries.put(ExtensionManifest.PATH, ManifestReader.write(source.manifest()));
        StringBuilder against = new StringBuilder();
        output.compiledAgainst().forEach((type, digest) -> against.append(digest).append(' ').append(type)
                .append('\n'));
        entries.put(COMPILED_AGAINST, against.toString().getBytes(StandardCharsets.UTF_8));
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                ZipEntry zipEntry = new ZipEntry(entry.getKey());
                zipEntry.setTime(ENTRY_TIME);
                out.putNextEntry(zipEntry);
                out.write(entry.getValue());
                out.closeEntry();
            }
        }
    }
}
