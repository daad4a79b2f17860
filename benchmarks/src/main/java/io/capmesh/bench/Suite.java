package io.capmesh.bench;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One run: its steps in order, each reported on the progress display, then the report. A step that fails is
 * noted in the report and the run goes on, so one broken measurement does not hide the others.
 */
final class Suite {

    /** A step of the run; throws when it could not measure what it should. */
    @FunctionalInterface
    interface Action {
        String run() throws Exception;
    }

    private record Step(String name, Action action) {
    }

    private final Mode mode;
    private final Path out;
    private final Services services;
    private final Report report;
    private final PrintStream progressOut;
    private final CallPaths paths = new CallPaths();
    private final Targets targets;
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    Suite(Mode mode, Path out, Services services, Environment environment, PrintStream progressOut) {
        this.mode = mode;
        this.out = out;
        this.services = services;
        this.report = new Report(environment, mode);
        this.progressOut = progressOut;
        this.targets = new Targets();
    }

    /** Runs every step and writes the report; answers whether every step ran. */
    boolean run() throws Exception {
        Files.createDirectories(out);
        List<Step> steps = steps();
        Progress progress = new Progress(progressOut, steps.size() + 1);
        boolean allRan = true;
        for (Step step : steps) {
            progress.begin(step.name());
            try {
                progress.end(step.action().run());
            } catch (Exception | AssertionError e) {
                allRan = false;
                report.note("**" + step.name() + " failed:** " + firstLine(e));
                progress.end("FAILED: " + firstLine(e));
                StringWriter trace = new StringWriter();
                e.printStackTrace(new PrintWriter(trace));
                Files.writeString(out.resolve("errors.log"), step.name() + "\n" + trace + "\n",
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            }
        }
        for (AutoCloseable resource : closeAfter) {
            try {
                resource.close();
            } catch (Exception e) {
                report.note("stopping what the run started failed: " + firstLine(e));
            }
        }
        progress.begin("report");
        // the call-path table leads: it is the one every other figure is read against
        report.lead(paths.table());
        paths.chart(report);
        report.add(targets.table(paths));
        report.write(out);
        progress.end(out.resolve(Report.MARKDOWN) + ", " + out.resolve(Report.CHART));
        return allRan;
    }

    private List<Step> steps() {
        List<Step> steps = new ArrayList<>();
        steps.add(new Step("in-process call paths (JMH)", () -> {
            JmhPaths.run(mode, out, paths, targets);
            return summary("direct") + "; " + summary("spi") + "; " + summary("loopbackGrpc");
        }));
        Lifecycle lifecycle = new Lifecycle(mode, report, targets);
        steps.add(new Step("lifecycle: load + first call, swap, unload by jar size", lifecycle::loadSwapUnload));
        steps.add(new Step("lifecycle: swap under " + mode.swapConcurrency() + " concurrent calls",
                lifecycle::swapUnderLoad));
        steps.add(new Step("lifecycle: reclamation scenarios", lifecycle::reclamation));
        steps.add(new Step("lifecycle: unload to a leak's reference path, from a heap dump", lifecycle::leakPaths));
        steps.add(new Step("process isolation: per-call cost against in-process loading",
                () -> IsolationCost.run(mode, report)));
        steps.add(new Step("functions from source: first compile, an edit swapped in, the same sources from the cache",
                () -> SourceFunctions.run(mode, report, targets)));
        steps.add(new Step("JDK 17 against the newest: hop, unload, swap under load, each in a JVM of its own, "
                + "in turns", () -> new JdkComparison(mode, services, out, report).run()));
        Network network;
        try {
            network = new Network(mode, out, services, report, paths, targets);
        } catch (Exception e) {
            throw new IllegalStateException("cannot prepare " + out.resolve("mesh"), e);
        }
        closeAfter.add(network);
        closeAfter.add(() -> report.add(network.starts()));
        // The memory figures are sizes, not times: the mesh's services start meanwhile, so their starts cost the
        // run no time of its own. Every step after it measures with those services up and idle.
        steps.add(new Step("memory with " + mode.loadedCounts() + " small extensions loaded"
                + (mode.mesh() ? " (the mesh starting meanwhile)" : ""), () -> {
                    if (mode.mesh()) {
                        network.launchMesh();
                    }
                    return Memory.run(mode, report, targets);
                }));
        if (mode.mesh()) {
            steps.add(new Step("start the mesh: broker, " + (mode.composition() ? "data, ml, crypto, " : "")
                    + "a core runtime with tracing on, all at once", network::awaitMesh));
            steps.add(new Step("runtime start to SERVING, " + mode.startRuns() + " start(s) of the core runtime "
                    + "alone each way (JDK 17 and the newest, as built and prepared), in turns", network::startAlone));
        }
        steps.add(new Step("raw grpc-java baseline (its benchmark service in another JVM)", network::rawBaseline));
        if (!mode.mesh()) {
            report.note("The " + mode.name() + " mode starts no service jar: runtime start, the stub's hop, broker "
                    + "acquires and the composition are measured by quick and full runs only.");
            paths.skipped("5 to 7 (service processes)", "not started in " + mode.name() + " mode");
            return steps;
        }
        steps.add(new Step("one hop: plain client, thin stub with tracing off and on, to a core runtime",
                network::stubHop));
        steps.add(new Step("broker acquire, warm and cold (tier-2 load)", network::acquire));
        steps.add(new Step("control plane: three broker replicas on PostgreSQL against the embedded broker",
                network::controlPlane));
        steps.add(new Step("composition: score-and-sign across runtimes, each of its calls alone, the same work in "
                + "one process", network::composition));
        return steps;
    }

    private String summary(String key) {
        Latency latency = paths.latency(key);
        return latency == null ? key + " -" : key + " p50 " + Table.micros(latency.p50()) + " us";
    }

    Mode mode() {
        return mode;
    }

    Services services() {
        return services;
    }

    Path out() {
        return out;
    }

    Report report() {
        return report;
    }

    CallPaths paths() {
        return paths;
    }

    Targets targets() {
        return targets;
    }

    private static String firstLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).replace("|", "/");
    }
}
