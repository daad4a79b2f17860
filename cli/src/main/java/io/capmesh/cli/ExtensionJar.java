package io.capmesh.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * An extension package to send to runtimes, a jar or Java sources, with what its manifest says when it can be read
 * here. The manifest only
 * helps pick the runtimes; whether the package is any good is for the runtime to judge, and it says why not.
 */
record ExtensionJar(Path path, byte[] bytes, Optional<Manifest> manifest) {

    static final String MANIFEST = "META-INF/capmesh/extension.json";

    /** Folders at the top of a source tree that hold no sources of the extension: build output. */
    private static final Set<String> NOT_SOURCES = Set.of("target", "build", "out");

    /** The manifest of a one-file source package, in the comment that opens it (as the runtime reads it). */
    private static final Pattern SOURCE_MANIFEST =
            Pattern.compile("\\A\\s*/\\*\\s*capmesh:extension\\.json\\s*(.*?)\\*/", Pattern.DOTALL);

    /** The parts of {@code extension.json} the command line uses. */
    record Manifest(String id, String version, List<Capability> capabilities) {

        record Capability(String name, String version) {
        }

        /** The tier its first capability's name starts with: {@code data} for {@code data.sql}. */
        Optional<String> tier() {
            return capabilities == null || capabilities.isEmpty() || capabilities.get(0).name() == null
                    ? Optional.empty()
                    : Optional.of(capabilities.get(0).name().split("\\.", 2)[0]);
        }

        String coordinates() {
            return id + " " + version;
        }
    }

    /** @throws CliFailure (usage) when the file cannot be read */
    static ExtensionJar read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw CliFailure.usage("no such file: " + path);
        } catch (IOException e) {
            throw CliFailure.usage("cannot read " + path + ": " + e.getMessage());
        }
        return new ExtensionJar(path, bytes, manifest(path));
    }

    /**
     * Java sources packed as a runtime takes them: a folder's {@code .java} files under their paths in it, its
     * {@code extension.json} (at its top or under {@code META-INF/capmesh/}) and its {@code lib/*.jar}; or one
     * {@code .java} file, whose opening comment holds the manifest. Entries are sorted and undated, so the same
     * sources always pack to the same bytes, and a runtime that compiled them before loads them from its cache.
     *
     * @throws CliFailure (usage) when there are no sources to send or they cannot be read
     */
    static ExtensionJar sources(Path path) {
        return sources(path, null);
    }

    /**
     * The sources at {@code path}, with the manifest's version ending in {@code versionSuffix} (when not null), so
     * that sources whose manifest is unchanged can replace each other (capmesh dev).
     */
    static ExtensionJar sources(Path path, String versionSuffix) {
        Map<String, byte[]> entries = new TreeMap<>();
        List<String> manifests = new ArrayList<>();
        try {
            if (Files.isDirectory(path)) {
                for (Path file : sourceFiles(path)) {
                        String entry = path.relativize(file).toString().replace('\\', '/');
                        if (entry.endsWith(".java")) {
                            entries.put(entry, Files.readAllBytes(file));
                        } else if (entry.equals("extension.json") || entry.endsWith("/" + MANIFEST)
                                || entry.equals(MANIFEST)) {
                            manifests.add(entry);
                            entries.put(MANIFEST, Files.readAllBytes(file));
                        } else if (entry.matches("lib/[^/]+\\.jar")) {
                            entries.put(entry, Files.readAllBytes(file));
                        }
                }
                if (entries.keySet().stream().noneMatch(entry -> entry.endsWith(".java"))) {
                    throw CliFailure.usage("no .java files under " + path);
                }
                if (manifests.size() > 1) {
                    throw CliFailure.usage(path + " holds " + manifests.size() + " manifests (" + String.join(", ",
                            manifests) + "); keep the one of the extension");
                }
            } else if (path.getFileName().toString().endsWith(".java") && Files.isRegularFile(path)) {
                entries.put(path.getFileName().toString(), Files.readAllBytes(path));
            } else {
                throw CliFailure.usage(Files.exists(path) ? path + " is neither a folder of sources nor a .java file"
                        : "no such file or folder: " + path);
            }
        } catch (IOException e) {
            throw CliFailure.usage("cannot read " + path + ": " + e.getMessage());
        }
        byte[] manifest = entries.get(MANIFEST);
        if (manifest != null && versionSuffix != null) {
            manifest = withSuffix(manifest, versionSuffix, path);
            entries.put(MANIFEST, manifest);
        } else if (manifest == null && entries.keySet().stream().filter(entry -> entry.endsWith(".java")).count() == 1) {
            Map.Entry<String, byte[]> only = entries.entrySet().stream().filter(entry -> entry.getKey()
                    .endsWith(".java")).findFirst().orElseThrow();
            String text = new String(only.getValue(), StandardCharsets.UTF_8);
            Matcher header = SOURCE_MANIFEST.matcher(text);
            if (header.find()) {
                manifest = header.group(1).getBytes(StandardCharsets.UTF_8);
                if (versionSuffix != null) {
                    manifest = withSuffix(manifest, versionSuffix, path);
                    // as many lines as before, so that the compiler's line numbers are the file's
                    long lines = header.group(1).chars().filter(c -> c == '\n').count();
                    only.setValue((text.substring(0, header.start(1)) + new String(manifest, StandardCharsets.UTF_8)
                            + (lines == 0 ? " " : "\n".repeat((int) lines)) + text.substring(header.end(1)))
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return new ExtensionJar(path, pack(entries), manifest == null ? Optional.empty() : manifest(manifest));
    }

    /**
     * Whether a folder under a source tree may hold the extension's sources: not a hidden one, not the tree's build
     * output ({@code target}, {@code build}, {@code out} at its top) and not its tests ({@code src/test}).
     */
    static boolean isSourceFolder(Path root, Path folder) {
        Path relative = root.toAbsolutePath().normalize().relativize(folder.toAbsolutePath().normalize());
        if (relative.toString().isEmpty()) {
            return true;
        }
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return false;
            }
        }
        return !NOT_SOURCES.contains(relative.getName(0).toString())
                && !relative.toString().replace('\\', '/').matches("src/test(/.*)?");
    }

    /** The files of a source tree's source folders; files that vanish while it is walked (a build) are passed by. */
    private static List<Path> sourceFiles(Path root) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path folder, BasicFileAttributes attributes) {
                return isSourceFolder(root, folder) ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile()) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        files.sort(null);
        return files;
    }

    private static byte[] withSuffix(byte[] manifest, String suffix, Path path) {
        try {
            JsonObject json = JsonParser.parseString(new String(manifest, StandardCharsets.UTF_8)).getAsJsonObject();
            json.addProperty("version", json.get("version").getAsString() + suffix);
            return Json.LINE.toJson(json).getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            throw CliFailure.usage("the manifest of " + path + " is not a JSON object with a version: "
                    + e.getMessage());
        }
    }

    String fileName() {
        return path.getFileName().toString();
    }

    private static byte[] pack(Map<String, byte[]> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                ZipEntry zipEntry = new ZipEntry(entry.getKey());
                zipEntry.setTime(0L);
                zip.putNextEntry(zipEntry);
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static Optional<Manifest> manifest(Path path) {
        try (ZipFile zip = new ZipFile(path.toFile())) {
            ZipEntry entry = zip.getEntry(MANIFEST);
            return entry == null ? Optional.empty() : manifest(zip.getInputStream(entry).readAllBytes());
        } catch (IOException | RuntimeException notReadable) {
            return Optional.empty();
        }
    }

    private static Optional<Manifest> manifest(byte[] json) {
        try {
            Manifest manifest = Json.PRETTY.fromJson(new String(json, StandardCharsets.UTF_8), Manifest.class);
            return manifest == null || manifest.id() == null ? Optional.empty() : Optional.of(manifest);
        } catch (RuntimeException notReadable) {
            return Optional.empty();
        }
    }
}
