package io.capmesh.bench;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the capmesh benchmark suite and writes {@code report.md} and {@code latency.svg} into {@code --out}.
 *
 * <pre>
 * java -jar benchmarks/target/capmesh-benchmarks.jar --mode smoke|quick|full --out DIR [--services DIR]
 * </pre>
 *
 * <p>Build first with {@code ./mvnw -B -q install -DskipTests}: the service jars are taken from {@code --services},
 * else from {@code services/} next to this jar, else from each service module's {@code target/} in the repository
 * around this jar. Progress goes to standard error, one line per step; the exit code is 0 when every step ran, 1
 * when a step failed (the report still says what the others measured), 2 for a wrong argument. The JVM relaunches
 * itself once with the runtime's flags (G1, concurrent explicit GCs, tenuring after one collection) when it was
 * started without them, so the lifecycle figures are those of a runtime started by {@code bin/service}.
 */
@Command(name = "capmesh-benchmarks", mixinStandardHelpOptions = true,
        description = "Measures every capmesh call path, extension lifecycle and memory figure side by side with its "
                + "baseline, and writes report.md and latency.svg.",
        footer = {"", "Modes: smoke (seconds; proves the harness, figures meaningless), quick (under 5 minutes), "
                + "full (tighter figures, about 12 minutes on two cores).",
                "Build first: ./mvnw -B -q install -DskipTests"})
public final class Bench implements Callable<Integer> {

    /** The flags {@code bin/service} gives a runtime; the in-process and forked measurements use them too. */
    static final List<String> RUNTIME_JVM_FLAGS = List.of("-XX:+UseG1GC", "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:MaxTenuringThreshold=1", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens",
            "java.base/java.util=ALL-UNNAMED", "--add-opens", "java.base/java.util.concurrent=ALL-UNNAMED", "--add-opens",
            "java.base/java.security=ALL-UNNAMED");

    @Option(names = "--mode", defaultValue = "quick", paramLabel = "smoke|quick|full",
            description = "How long to measure (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where report.md, latency.svg and "
            + "the logs of the started services go.")
    Path out;

    @Option(names = "--services", paramLabel = "DIR", description = "Directory holding the service jars "
            + "(capmesh-broker-service.jar, capmesh-core-runtime-service.jar, ...).")
    Path services;

    private final String[] args;
    private final PrintStream progress;

    Bench(String[] args, PrintStream progress) {
        this.args = args.clone();
        this.progress = progress;
    }

    public static void main(String[] args) {
        System.exit(run(System.err, args));
    }

    /** Runs the suite in this JVM (or a relaunched one); answers the exit code. */
    static int run(PrintStream progress, String... args) {
        return new CommandLine(new Bench(args, progress)).execute(args);
    }

    @Override
    public Integer call() throws Exception {
        Mode chosen;
        try {
            chosen = Mode.named(mode);
        } catch (IllegalArgumentException e) {
            progress.println(e.getMessage());
            return 2;
        }
        if (!startedWithRuntimeFlags() && System.getProperty("capmesh.bench.relaunched") == null) {
            return relaunch();
        }
        String command = System.getProperty("capmesh.bench.command",
                "java -jar capmesh-benchmarks.jar " + String.join(" ", args));
        Services located = Services.locate(services);
        Suite suite = new Suite(chosen, out.toAbsolutePath(), located,
                Environment.describe(command, located.repository()), progress);
        return suite.run() ? 0 : 1;
    }

    private static boolean startedWithRuntimeFlags() {
        List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments();
        return flags.contains("-XX:+ExplicitGCInvokesConcurrent") && flags.stream().anyMatch(f -> f.startsWith(
                "-javaagent:"));
    }

    private int relaunch() throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(RUNTIME_JVM_FLAGS);
        // the exit guard every runtime starts with (JMH's forks inherit this JVM's flags)
        Services.locate(services).jar("exit-guard").ifPresent(agent -> command.add("-javaagent:" + agent));
        command.add("-Dcapmesh.bench.relaunched=true");
        command.add("-Dcapmesh.bench.command=" + System.getProperty("capmesh.bench.command",
                "java -jar capmesh-benchmarks.jar " + String.join(" ", args)));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Bench.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).inheritIO().start().waitFor();
    }
}
