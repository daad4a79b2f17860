package io.capmesh.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    public static byte[] withEntries(byte[] jar, java.util.Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipInputStream in = new ZipInputStream(new java.io.ByteArrayInputStream(jar));
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (var added : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(added.getKey()));
                zip.write(added.getValue());
                zip.closeEntry();
            }
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                byte[] content = in.readAllBytes();
                if (!entries.containsKey(entry.getName())) {
                    zip.putNextEntry(new ZipEntry(entry.getName()));
                    zip.write(content);
                    zip.closeEntry();
                }
            }
        }
        return out.toByteArray();
    }

    /** The same jar with its manifest rewritten. */
    public static byte[] rewriteManifest(byte[] jar, java.util.function.UnaryOperator<String> rewrite)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipInputStream in = new ZipInputStream(new java.io.ByteArrayInputStream(jar));
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                byte[] content = in.readAllBytes();
                if (entry.getName().equals("META-INF/capmesh/extension.json")) {
                    content = rewrite.apply(new String(content, StandardCharsets.UTF_8))
                            .getBytes(StandardCharsets.UTF_8);
                }
                zip.putNextEntry(new ZipEntry(entry.getName()));
                zip.write(content);
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }
}
