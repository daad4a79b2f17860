package io.capmesh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", sortOptions = false,
        header = "Run the benchmarks: every call path, extension lifecycle and memory figure beside its baseline.",
        description = {"Runs the benchmark suite (benchmarks/target/capmesh-benchmarks.jar) in its own JVM, with its"
                + " progress on this terminal, and writes report.md (tables with the machine, JDK, commit and"
                + " command) and latency.svg (the latency distribution per call path) into --out.",
                "Modes: smoke (seconds; proves the harness only), quick (under 5 minutes), full (tighter figures)."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--mode", defaultValue = "quick", paramLabel = "smoke|quick|full",
            description = "How long to measure (default: ${DEFAULT-VALUE}).")
    private String mode;

    @Option(names = "--out", defaultValue = "target/bench", paramLabel = "DIR",
            description = "Where the report, the chart and the services' logs go (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--jar", paramLabel = "JAR", description = "The benchmark jar (default: benchmarks/target/"
            + "capmesh-benchmarks.jar in the capmesh checkout).")
    private Path jar;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!List.of("smoke", "quick", "full").contains(mode)) {
            throw CliFailure.usage("--mode is smoke, quick or full, not \"" + mode + "\"");
        }
        Path benchmarks = jar != null ? jar : Path.of(System.getProperty("capmesh.home", ""))
                .resolve("benchmarks").resolve("target").resolve("capmesh-benchmarks.jar");
        if (!Files.isRegularFile(benchmarks)) {
            throw CliFailure.usage("no benchmark jar at " + benchmarks + ": " + LocalMesh.BUILD_FIRST);
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", benchmarks.toString(), "--mode", mode, "--out", out.toString()));
        int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
        return exit == 0 ? ExitCode.OK : exit == 2 ? ExitCode.USAGE : ExitCode.FAILED;
    }
}
