package io.capmesh.runtime;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** The extension jars Maven built for these tests, and ways to make variants of them. */
public final class TestExtensions {

    private TestExtensions() {
    }

    /** A jar from target/extensions, e.g. {@code jar("capmesh-ext-echo")}. */
    public static Path jar(String artifact) {
        Path jar = Path.of(System.getProperty("capmesh.test.extensions", "target/extensions"), artifact + ".jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing; build with ./mvnw so the extension jars are copied");
        }
        return jar;
    }

    public static byte[] bytes(String artifact) throws IOException {
        return Files.readAllBytes(jar(artifact));
    }

    /** The same jar with entries added (or replaced, by name). */
    public static byte[] withEntries(byte[] jar, Map<String, byte[]> entries) throws IOException {
        return copy(jar, entries, (name, content) -> entries.containsKey(name) ? null : content);
    }

    /** The same jar with its manifest rewritten. */
    public static byte[] rewriteManifest(byte[] jar, UnaryOperator<String> rewrite) throws IOException {
        return copy(jar, Map.of(), (name, content) -> !name.equals("META-INF/capmesh/extension.json") ? content
                : rewrite.apply(new String(content, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
    }

    /** Copies a jar: first the added entries, then each of its own as {@code change} returns it (null drops it). */
    private static byte[] copy(byte[] jar, Map<String, byte[]> added, BiFunction<String, byte[], byte[]> change)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar));
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (var entry : added.entrySet()) {
                put(zip, entry.getKey(), entry.getValue());
            }
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                byte[] content = change.apply(entry.getName(), in.readAllBytes());
                if (content != null) {
                    put(zip, entry.getName(), content);
                }
            }
        }
        return out.toByteArray();
    }

    private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(content);
        zip.closeEntry();
    }
}
