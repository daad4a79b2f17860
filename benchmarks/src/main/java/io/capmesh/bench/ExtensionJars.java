package io.capmesh.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

/**
 * The extension jars a run needs, made at run time: the echo extension (shipped inside the bench jar) under new
 * ids, versions and sizes, and jars built from the scenario extensions of {@code io.capmesh.bench.extensions}.
 */
final class ExtensionJars {

    static final String ECHO = "capmesh-ext-echo.jar";
    static final String ECHO_ENTRY = "io.capmesh.extensions.echo.EchoExtension";
    private static final String MANIFEST = "META-INF/capmesh/extension.json";

    private final Path dir;
    private final Random random = new Random(42);

    ExtensionJars(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /** A jar shipped in the bench jar under {@code capmesh/bench/}, copied to disk. */
    Path shipped(String name) {
        Path target = dir.resolve(name);
        if (Files.exists(target)) {
            return target;
        }
        try (InputStream in = ExtensionJars.class.getResourceAsStream("/capmesh/bench/" + name)) {
            if (in == null) {
                throw new IllegalStateException("capmesh/bench/" + name + " is not in the bench jar");
            }
            Files.createDirectories(dir);
            Files.copy(in, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The echo extension as {@code id@version} offering {@code capability}, padded with {@code padBytes} of
     * incompressible data so the jar has the size of a bigger extension.
     */
    Path echo(String id, String version, String capability, long padBytes) {
        return echo(id, version, capability, padBytes, "in-process");
    }

    /** The echo extension as above, asking for the given isolation ({@code in-process} or {@code process}). */
    Path echo(String id, String version, String capability, long padBytes, String isolation) {
        Path target = dir.resolve(id + "-" + version + ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(shipped(ECHO)));
             JarOutputStream out = new JarOutputStream(Files.newOutputStream(target))) {
            for (JarEntry entry = in.getNextJarEntry(); entry != null; entry = in.getNextJarEntry()) {
                if (entry.getName().equals(MANIFEST)) {
                    continue;
                }
                out.putNextEntry(new JarEntry(entry.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
            writeManifest(out, id, version, ECHO_ENTRY, capability, List.of("echo", "hold"), isolation);
            if (padBytes > 0) {
                pad(out, padBytes);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    /** A jar of the given classes (and their nested classes) with a manifest naming the first as entry class. */
    Path ofClasses(String id, String version, String capability, List<String> methods, Class<?> entry) {
        Path target = dir.resolve(id + "-" + version + ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(target))) {
            Deque<Class<?>> classes = new ArrayDeque<>(List.of(entry));
            while (!classes.isEmpty()) {
                Class<?> type = classes.pop();
                String resource = type.getName().replace('.', '/') + ".class";
                try (InputStream in = type.getClassLoader().getResourceAsStream(resource)) {
                    out.putNextEntry(new JarEntry(resource));
                    in.transferTo(out);
                    out.closeEntry();
                }
                classes.addAll(List.of(type.getDeclaredClasses()));
            }
            writeManifest(out, id, version, entry.getName(), capability, methods, "in-process");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    private static void writeManifest(OutputStream out, String id, String version, String entryClass,
                                      String capability, List<String> methods, String isolation)
            throws IOException {
        String json = String.format("{\"id\": \"%s\", \"version\": \"%s\", \"entryClass\": \"%s\", "
                        + "\"capabilities\": [{\"name\": \"%s\", \"version\": \"1.0.0\", \"methods\": [%s]}], "
                        + "\"dependencies\": [], \"isolation\": \"%s\"}",
                id, version, entryClass, capability,
                methods.stream().map(m -> "\"" + m + "\"").collect(Collectors.joining(", ")), isolation);
        ((JarOutputStream) out).putNextEntry(new JarEntry(MANIFEST));
        out.write(json.getBytes(StandardCharsets.UTF_8));
        ((JarOutputStream) out).closeEntry();
    }

    /** Random bytes, stored uncompressed in 256 KB entries, so the jar really is that big on disk and inflated. */
    private void pad(JarOutputStream out, long bytes) throws IOException {
        int chunk = 256 * 1024;
        for (int i = 0; bytes > 0; i++) {
            byte[] data = new byte[(int) Math.min(chunk, bytes)];
            random.nextBytes(data);
            CRC32 crc = new CRC32();
            crc.update(data);
            JarEntry entry = new JarEntry("bench-padding/blob-" + i + ".bin");
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(data.length);
            entry.setCompressedSize(data.length);
            entry.setCrc(crc.getValue());
            out.putNextEntry(entry);
            out.write(data);
            out.closeEntry();
            bytes -= data.length;
        }
    }
}
