package io.capmesh.signing;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** Small jars for the tests, and what a reader of the package would collect from them. */
final class Jars {

    private Jars() {
    }

    static byte[] jar(Map<String, String> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, String> entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] extension() {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n");
        entries.put("META-INF/capmesh/extension.json", "{\"id\": \"demo\"}");
        entries.put("io/capmesh/demo/Demo.class", "not really a class");
        return jar(entries);
    }

    static Map<String, String> entries(byte[] jar) {
        Map<String, String> entries = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar))) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                entries.put(entry.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    static PackageContents contents(byte[] jar) {
        PackageContents contents = new PackageContents();
        entries(jar).forEach((name, content) -> {
            byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
            if (name.equals(PackageSignature.PATH)) {
                contents.signature(bytes);
            } else {
                contents.add(name, PackageContents.newDigest().digest(bytes));
            }
        });
        return contents;
    }
}
