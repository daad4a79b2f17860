package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How sources are packed for a runtime: what a folder sends, and what it leaves out. */
class ExtensionJarTest {

    private static final String MANIFEST = """
            {"id": "greeter", "version": "1.0.0", "entryClass": "demo.Greeter",
             "capabilities": [{"name": "demo.greet", "version": "1.0.0", "methods": ["greet"]}]}""";

    @TempDir
    Path dir;

    @Test
    void aMavenModulesFolderSendsItsSourcesManifestAndBundledJarsNotItsTestsOrBuildOutput() throws IOException {
        write("src/main/java/demo/Greeter.java", "package demo; class Greeter {}");
        write("src/main/java/demo/build/Tool.java", "package demo.build; class Tool {}"); // a package named build
        write("src/main/resources/META-INF/capmesh/extension.json", MANIFEST);
        write("src/test/java/demo/GreeterTest.java", "package demo; class GreeterTest {}");
        write("target/generated-sources/demo/Generated.java", "class Generated {}");
        write(".idea/Scratch.java", "class Scratch {}");
        write("lib/helper.jar", "PK");

        ExtensionJar sources = ExtensionJar.sources(dir);
        assertThat(entries(sources.bytes())).containsExactly("META-INF/capmesh/extension.json", "lib/helper.jar",
                "src/main/java/demo/Greeter.java", "src/main/java/demo/build/Tool.java");
        assertThat(sources.manifest()).map(ExtensionJar.Manifest::coordinates).contains("greeter 1.0.0");
        assertThat(ExtensionJar.sources(dir).bytes()).as("the same sources, the same bytes")
                .isEqualTo(sources.bytes());
    }

    @Test
    void oneSourceWithABundledJarTakesItsManifestFromItsOpeningCommentAndDevVersionsIt() throws IOException {
        write("Greeter.java", "/* capmesh:extension.json\n" + MANIFEST + "\n*/\npackage demo;\nclass Greeter {}\n");
        write("lib/helper.jar", "PK");
        ExtensionJar dev = ExtensionJar.sources(dir, "-dev.7");
        assertThat(dev.manifest()).map(ExtensionJar.Manifest::coordinates).contains("greeter 1.0.0-dev.7");
        String source = entry(dev.bytes(), "Greeter.java");
        assertThat(source).contains("\"version\":\"1.0.0-dev.7\"");
        assertThat(source.lines().toList().indexOf("package demo;")).as("the lines the compiler reports stay")
                .isEqualTo(Files.readAllLines(dir.resolve("Greeter.java")).indexOf("package demo;"));
    }

    @Test
    void twoManifestsOrNoSourcesAreRefused() throws IOException {
        write("extension.json", MANIFEST);
        assertThatThrownBy(() -> ExtensionJar.sources(dir)).hasMessageContaining("no .java files under");
        write("demo/Greeter.java", "package demo; class Greeter {}");
        write("META-INF/capmesh/extension.json", MANIFEST);
        assertThatThrownBy(() -> ExtensionJar.sources(dir)).hasMessageContaining("holds 2 manifests");
    }

    private void write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    private static List<String> entries(byte[] zip) throws IOException {
        List<String> names = new ArrayList<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                names.add(entry.getName());
            }
        }
        return names;
    }

    private static String entry(byte[] zip, String name) throws IOException {
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                if (entry.getName().equals(name)) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        }
        throw new AssertionError("no " + name);
    }
}
