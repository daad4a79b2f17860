package io.capmesh.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the figures were measured on and with: they mean little without it. */
record Environment(String cpu, int cores, long memoryBytes, String os, Handoff handoff, String jdk, String jvmFlags,
                   String commit, String command, Instant when) {

    static Environment describe(String command, Path repository) {
        return new Environment(cpuModel(), Runtime.getRuntime().availableProcessors(), totalMemory(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"), Handoff.measure(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                        .filter(arg -> arg.startsWith("-XX") || arg.startsWith("-Xm")).toList()),
                commit(repository), command, Instant.now().truncatedTo(ChronoUnit.SECONDS));
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static long totalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return -1;
    }

    /** The commit of the repository the jars were built from, marked when the tree had local changes. */
    private static String commit(Path repository) {
        if (repository == null) {
            return "unknown (not run from a repository)";
        }
        String head = git(repository, "rev-parse", "--short=12", "HEAD");
        if (head.isEmpty()) {
            return "unknown";
        }
        return git(repository, "status", "--porcelain", "--untracked-files=no").isEmpty() ? head
                : head + " with local changes";
    }

    private static String git(Path repository, String... args) {
        try {
            Process git = new ProcessBuilder(concat(List.of("git", "-C", repository.toString()), args))
                    .redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return git.waitFor(10, TimeUnit.SECONDS) && git.exitValue() == 0 ? out : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static List<String> concat(List<String> head, String... tail) {
        return java.util.stream.Stream.concat(head.stream(), java.util.Arrays.stream(tail)).toList();
    }
}
