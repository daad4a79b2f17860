package io.capmesh.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service jar made ready for class data sharing the way the container images do it
 * (container-images/src/docker/service): Spring Boot's own extraction (plain jars, which an archive can hold), then a
 * training start that refreshes the application context, exits, and archives every class it loaded.
 *
 * @param jar      the extracted application jar, to start with {@code -jar}
 * @param archive  the class data sharing archive of the training start
 * @param bootPath the exit guard on the boot class path ({@code -Xbootclasspath/a:...}), for a runtime; else null
 */
record ClassDataSharing(Path jar, Path archive, String bootPath) {

    private static final long STEP_TIMEOUT_SECONDS = 300;

    /** Extracts {@code bootJar} into {@code dir} and trains its archive there. */
    static ClassDataSharing prepare(Path bootJar, Path dir, List<String> trainingArgs)
            throws IOException, InterruptedException {
        Path app = dir.resolve("app");
        Files.createDirectories(dir);
        run(List.of(java(), "-Djarmode=tools", "-jar", bootJar.toString(), "extract", "--destination",
                app.toString()), dir, "extract");
        Path jar = app.resolve(bootJar.getFileName());
        Path archive = dir.resolve("app.jsa");
        // as the images do: the exit guard's jar is on the boot class path in the training start (without the agent,
        // which an archive is not written with) and in every start with the archive
        Path exitGuard = bootJar.resolveSibling("capmesh-exit-guard.jar");
        String bootPath = Files.isRegularFile(exitGuard)
                ? "-Xbootclasspath/a:" + app.resolve(exitGuard.getFileName()) : null;
        if (bootPath != null) {
            Files.copy(exitGuard, app.resolve(exitGuard.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        List<String> training = new ArrayList<>(List.of(java()));
        if (bootPath != null) {
            training.add(bootPath);
        }
        training.addAll(List.of("-XX:ArchiveClassesAtExit=" + archive, "-Dspring.context.exit=onRefresh", "-jar",
                jar.toString(), "--logging.level.root=warn"));
        training.addAll(trainingArgs);
        run(training, dir, "training");
        if (!Files.isRegularFile(archive) || Files.size(archive) == 0) {
            throw new IllegalStateException("the training start of " + bootJar + " wrote no archive; see "
                    + dir.resolve("training.log"));
        }
        return new ClassDataSharing(jar, archive, bootPath);
    }

    /** What a start needs to map the archive; -Xshare:on makes it fail rather than start without. */
    Map<String, String> environment() {
        return Map.of("JAVA_TOOL_OPTIONS", "-XX:SharedArchiveFile=" + archive + " -Xshare:on"
                + (bootPath == null ? "" : " " + bootPath));
    }

    private static void run(List<String> command, Path dir, String step) throws IOException, InterruptedException {
        Path log = dir.resolve(step + ".log");
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!process.waitFor(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(step + " of " + command + " took over " + STEP_TIMEOUT_SECONDS + " s");
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(step + " failed with exit " + process.exitValue() + ": "
                    + String.join("\n", Files.readAllLines(log).stream().skip(Math.max(0,
                    Files.readAllLines(log).size() - 30)).toList()));
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
