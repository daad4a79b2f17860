package io.capmesh.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A service jar in a directory of its own, started on a chosen JDK either as built (ServiceProcess's java -jar with
 * the G1 flags) or prepared as the build prepares it (tools/service-start/prepare: extracted, agents, and the start
 * cache of a training start), so that the start rows compare JDKs and caches on one machine in one run.
 *
 * @param jar         the copied jar; when prepared, the prepared directory sits beside it and ServiceProcess starts
 *                    through its run script
 * @param environment JAVA_HOME of the chosen JDK, for ServiceProcess (and for a prepared start, the flag that makes
 *                    it fail without its cache)
 * @param what        how the row names it, e.g. "JDK 25, AOT cache"
 */
record PreparedStart(Path jar, Map<String, String> environment, String what) {

    private static final long STEP_TIMEOUT_SECONDS = 300;

    /** The jar as built, on {@code javaHome}: no extraction, no start cache. */
    static PreparedStart asBuilt(Path bootJar, Path dir, Jdk jdk) throws IOException {
        return new PreparedStart(copy(bootJar, dir), Map.of("JAVA_HOME", jdk.home().toString()),
                "JDK " + jdk.major() + ", the jar as built");
    }

    /** Prepared by the project's prepare script on {@code jdk}, which trains the cache that JDK makes. */
    static PreparedStart prepared(Path repository, Path bootJar, Path dir, Jdk jdk)
            throws IOException, InterruptedException {
        Path jar = copy(bootJar, dir);
        run(List.of("bash", repository.resolve("tools/service-start/prepare").toString(), jar.toString()), dir,
                jdk);
        // a start that cannot use its cache fails rather than being counted as one with it
        return new PreparedStart(jar, Map.of("JAVA_HOME", jdk.home().toString(), "CAPMESH_START_CACHE", "required"),
                "JDK " + jdk.major() + ", " + (jdk.major() >= 25 ? "AOT cache" : "class data sharing archive"));
    }

    /** A JDK as {@code bin/java-home} picks it, the newest or the one {@code CAPMESH_JDK} forces. */
    record Jdk(Path home, int major) {

        /** JDK 17 and the newest, in that order; the newest alone when it is 17 or there is no JDK 17. */
        static List<Jdk> seventeenAndNewest(Path repository) throws IOException, InterruptedException {
            Jdk newest = pick(repository, null).orElseThrow(() ->
                    new IllegalStateException(repository.resolve("bin/java-home") + " found no JDK"));
            Optional<Jdk> jdk17 = pick(repository, "17");
            return jdk17.isPresent() && jdk17.get().major() != newest.major() ? List.of(jdk17.get(), newest)
                    : List.of(newest);
        }

        static Optional<Jdk> pick(Path repository, String forced) throws IOException, InterruptedException {
            ProcessBuilder builder = new ProcessBuilder(repository.resolve("bin/java-home").toString());
            builder.environment().remove("CAPMESH_JDK");
            if (forced != null) {
                builder.environment().put("CAPMESH_JDK", forced);
            }
            Process process = builder.redirectError(ProcessBuilder.Redirect.INHERIT).start(); // it says why not
            String home = new String(process.getInputStream().readAllBytes()).trim();
            if (process.waitFor() != 0 || home.isEmpty()) {
                return Optional.empty();
            }
            String release = Files.readString(Path.of(home, "release"));
            String version = release.replaceAll("(?s).*JAVA_VERSION=\"([0-9]+).*", "$1");
            return Optional.of(new Jdk(Path.of(home), Integer.parseInt(version)));
        }
    }

    private static Path copy(Path bootJar, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path exitGuard = bootJar.resolveSibling("capmesh-exit-guard.jar");
        if (Files.isRegularFile(exitGuard)) {
            Files.copy(exitGuard, dir.resolve(exitGuard.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        return Files.copy(bootJar, dir.resolve(bootJar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }

    private static void run(List<String> command, Path dir, Jdk jdk) throws IOException, InterruptedException {
        Path log = dir.resolve("prepare.log");
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("JAVA_HOME", jdk.home().toString());
        Process process = builder.start();
        if (!process.waitFor(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(command + " took over " + STEP_TIMEOUT_SECONDS + " s; see " + log);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(command + " failed with exit " + process.exitValue() + ": "
                    + Files.readString(log));
        }
    }
}
