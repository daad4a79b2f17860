package io.capmesh.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * An extension jar to send to runtimes, with what its manifest says when it can be read here. The manifest only
 * helps pick the runtimes; whether the package is any good is for the runtime to judge, and it says why not.
 */
record ExtensionJar(Path path, byte[] bytes, Optional<Manifest> manifest) {

    static final String MANIFEST = "META-INF/capmesh/extension.json";

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

    String fileName() {
        return path.getFileName().toString();
    }

    private static Optional<Manifest> manifest(Path path) {
        try (ZipFile zip = new ZipFile(path.toFile())) {
            ZipEntry entry = zip.getEntry(MANIFEST);
            if (entry == null) {
                return Optional.empty();
            }
            String json = new String(zip.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
            Manifest manifest = Json.PRETTY.fromJson(json, Manifest.class);
            return manifest == null || manifest.id() == null ? Optional.empty() : Optional.of(manifest);
        } catch (IOException | RuntimeException notReadable) {
            return Optional.empty();
        }
    }
}
