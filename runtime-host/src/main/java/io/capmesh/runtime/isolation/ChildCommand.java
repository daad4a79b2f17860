package io.capmesh.runtime.isolation;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The command line of a child JVM: this JVM's own {@code java}, this JVM's class path, a bounded heap, and exit on
 * the first OutOfMemoryError (a JVM that ran out of memory is in no state to go on serving).
 *
 * <p>The class path is passed on as it is, which covers a plain class path, a manifest-only jar (Surefire's
 * booter) and an extracted Spring Boot application ({@code app.jar} whose manifest lists {@code lib/}): the JDK
 * follows a jar's {@code Class-Path}. A Spring Boot executable jar keeps its libraries nested, which only its own
 * launcher can read, so such a child is started through Boot's {@code PropertiesLauncher} with
 * {@code loader.main} naming the child's main class.
 */
public final class ChildCommand {

    private static final String BOOT_LOADER = "org.springframework.boot.loader.";

    private ChildCommand() {
    }

    /** A child JVM of this one that runs {@code mainClass} with the given heap and options. */
    public static List<String> java(Class<?> mainClass, String maxHeap, List<String> jvmOptions) {
        IsolationSettings d = IsolationSettings.DEFAULT;
        return of(mainClass, new IsolationSettings(maxHeap, jvmOptions, d.firstRestartDelay(), d.maxRestartDelay(),
                d.stableAfter(), d.startTimeout()));
    }

    static List<String> of(Class<?> mainClass, IsolationSettings settings) {
        return of(System.getProperty("java.class.path"), mainClass.getName(), settings);
    }

    static List<String> of(String classPath, String mainClass, IsolationSettings settings) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + settings.maxHeap(),
                "-XX:+ExitOnOutOfMemoryError",
                "-XX:+UseSerialGC")); // one small extension per JVM: the leanest collector
        command.addAll(settings.jvmOptions());
        Optional<String> bootLauncher = bootLauncher(classPath);
        if (bootLauncher.isPresent()) {
            command.addAll(List.of("-Dloader.main=" + mainClass, "-cp", classPath, bootLauncher.get()));
        } else {
            command.addAll(List.of("-cp", classPath, mainClass));
        }
        return command;
    }

    /** Boot's PropertiesLauncher when the class path is a Spring Boot executable jar. */
    static Optional<String> bootLauncher(String classPath) {
        if (classPath.contains(File.pathSeparator) || !classPath.endsWith(".jar")
                || !Files.isRegularFile(Path.of(classPath))) {
            return Optional.empty();
        }
        try (JarFile jar = new JarFile(classPath)) {
            Manifest manifest = jar.getManifest();
            String main = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
            if (main == null || !main.startsWith(BOOT_LOADER)) {
                return Optional.empty();
            }
            return Optional.of(main.substring(0, main.lastIndexOf('.') + 1) + "PropertiesLauncher");
        } catch (IOException unreadable) {
            return Optional.empty();
        }
    }
}
