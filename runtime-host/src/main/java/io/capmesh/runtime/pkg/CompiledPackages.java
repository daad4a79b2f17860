package io.capmesh.runtime.pkg;

import io.capmesh.runtime.Problem;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;

/**
 * The jars source packages compiled to, one file per key: the source package's content hash and the compile's
 * environment ({@link SourceCompiler#environment}). A restart, a re-deploy of the same sources and a wake from
 * hibernation find the jar here and load it without compiling. A file's modification time is when it was last
 * used, for the sweep that removes those unused for long.
 */
public final class CompiledPackages {

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
            if (Files.isRegularFile(jar)) {
                Files.setLastModifiedTime(jar, FileTime.from(clock.instant()));
                return new Compiled(jar, 0);
            }
            long start = System.nanoTime();
            Map<String, byte[]> classes = compiler.compile(source.sources(), source.bundled(), name);
            check(classes, source.manifest(), name);
            Files.createDirectories(directory);
            Path staged = Files.createTempFile(directory, "compiling-", ".jar");
            try {
                write(staged, source.manifest(), classes, source.bundled());
                Files.move(staged, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(staged);
            }
            return new Compiled(jar, Math.max(1, (System.nanoTime() - start) / 1000));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the compiled " + name + " in " + directory, e);
        }
    }

    private String key(String packageSha256) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((packageSha256 + "\n" + compiler.environment()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** What the sources declare must be theirs to declare, and the entry class must be among them. */
    private void check(Map<String, byte[]> classes, ExtensionManifest manifest, String name) {
        List<String> intruding = classes.keySet().stream().map(entry -> entry.replace('/', '.'))
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

    private static void write(Path jar, ExtensionManifest manifest, Map<String, byte[]> classes,
                              Map<String, byte[]> bundled) throws IOException {
        Map<String, byte[]> entries = new TreeMap<>(bundled); // sorted: the same sources, the same bytes
        entries.putAll(classes);
        entries.put(ExtensionManifest.PATH, ManifestReader.write(manifest));
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
