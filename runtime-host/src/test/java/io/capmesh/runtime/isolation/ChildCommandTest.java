package io.capmesh.runtime.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The child JVM's command line for each way a runtime is launched. */
class ChildCommandTest {

    private static final String MAIN = IsolatedExtensionMain.class.getName();

    @TempDir
    Path dir;

    @Test
    void aPlainClassPathIsPassedOnWithTheHeapLimitAndExitOnOutOfMemory() {
        String classPath = "/app/classes" + File.pathSeparator + "/app/lib/grpc.jar";
        List<String> command = ChildCommand.of(classPath, MAIN, IsolationSettings.DEFAULT);
        assertThat(command.get(0)).isEqualTo(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        assertThat(command).contains("-Xmx256m", "-XX:+ExitOnOutOfMemoryError")
                .endsWith("-cp", classPath, MAIN);
    }

    @Test
    void anExtractedApplicationJarIsStartedByItsClassPathManifest() throws Exception {
        // Spring Boot's extracted layout: app.jar names the application's own main class and lists lib/
        Path app = jar("app.jar", "io.capmesh.core.CoreRuntimeApplication", "lib/a.jar lib/b.jar");
        assertThat(ChildCommand.of(app.toString(), MAIN, IsolationSettings.DEFAULT))
                .endsWith("-cp", app.toString(), MAIN);
    }

    @Test
    void aSpringBootExecutableJarIsStartedThroughBootsPropertiesLauncher() throws Exception {
        Path fat = jar("service.jar", "org.springframework.boot.loader.launch.JarLauncher", null);
        assertThat(ChildCommand.of(fat.toString(), MAIN, IsolationSettings.DEFAULT))
                .endsWith("-Dloader.main=" + MAIN, "-cp", fat.toString(),
                        "org.springframework.boot.loader.launch.PropertiesLauncher");
    }

    @Test
    void anExtensionsOwnHeapSettingWins() {
        IsolationSettings own = IsolationSettings.DEFAULT.forExtension("x@1.0.0",
                java.util.Map.of(IsolationSettings.MAX_HEAP, "64m"));
        assertThat(ChildCommand.of("/app/classes", MAIN, own)).contains("-Xmx64m").doesNotContain("-Xmx256m");
    }

    @Test
    void restartsBackOffExponentiallyUpToTheBound() {
        IsolationSettings settings = IsolationSettings.DEFAULT;
        assertThat(List.of(settings.restartDelay(1), settings.restartDelay(2), settings.restartDelay(3),
                settings.restartDelay(20), settings.restartDelay(1_000)))
                .containsExactly(java.time.Duration.ofMillis(250), java.time.Duration.ofMillis(500),
                        java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(30),
                        java.time.Duration.ofSeconds(30));
    }

    private Path jar(String name, String mainClass, String classPath) throws Exception {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
        if (classPath != null) {
            manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
        }
        Path jar = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // the manifest is all that matters here
        }
        return jar;
    }
}
