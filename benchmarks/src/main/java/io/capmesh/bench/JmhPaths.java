package io.capmesh.bench;

import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;

/** Runs {@link CallPathBenchmarks} with JMH and files its four paths under {@link CallPaths}. */
final class JmhPaths {

    private JmhPaths() {
    }

    static void run(Mode mode, Path out, CallPaths paths, Targets targets) throws RunnerException {
        ChainedOptionsBuilder builder = new OptionsBuilder()
                .include(CallPathBenchmarks.class.getName() + "\\.")
                .forks(mode.jmhForks())
                .warmupIterations(mode.jmhWarmup())
                .warmupTime(TimeValue.milliseconds(mode.jmhIteration().toMillis()))
                .measurementIterations(mode.jmhMeasure())
                .measurementTime(TimeValue.milliseconds(mode.jmhIteration().toMillis()))
                .threads(1)
                .timeUnit(TimeUnit.NANOSECONDS)
                .jvmArgsAppend(Bench.RUNTIME_JVM_FLAGS.toArray(String[]::new))
                .output(out.resolve("jmh.log").toString());
        if (mode != Mode.FULL) {
            // the average-time pass only sharpens the mean of the nanosecond paths: full runs only
            builder.mode(org.openjdk.jmh.annotations.Mode.SampleTime);
        }
        Options options = builder.build();
        Collection<RunResult> results = new Runner(options).run();
        Map<String, Statistics> samples = new HashMap<>();
        Map<String, Double> means = new HashMap<>();
        for (RunResult result : results) {
            String method = result.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            switch (result.getParams().getMode()) {
                case SampleTime -> samples.put(method, result.getPrimaryResult().getStatistics());
                case AverageTime -> means.put(method, result.getPrimaryResult().getScore());
                default -> { }
            }
        }
        add(paths, samples, means, "direct", "1 direct call to the extension object", null);
        add(paths, samples, means, "spi", "2 across the classloader boundary (SPI)", "direct");
        add(paths, samples, means, "inProcessGrpc", "3 in-process gRPC transport", "spi");
        add(paths, samples, means, "loopbackGrpc", "4 gRPC over loopback, same JVM", "inProcessGrpc");
        // AverageTime (full runs) gives the true mean; otherwise the sample median, since a sampled mean of a
        // nanosecond call is mostly the timer's outliers on a busy machine
        Statistics spi = samples.get("spi");
        Double spiMean = means.get("spi");
        if (spi != null || spiMean != null) {
            double figure = spiMean != null ? spiMean : spi.getPercentile(50);
            targets.measured(Targets.Goal.BOUNDARY, String.format("%.3f us %s (JMH)", figure / 1e3,
                    spiMean != null ? "mean" : "p50"), figure < 100);
        }
    }

    private static void add(CallPaths paths, Map<String, Statistics> samples, Map<String, Double> means,
                            String method, String label, String baseline) {
        Statistics stats = samples.get(method);
        if (stats == null) {
            paths.skipped(label, "JMH gave no result (see jmh.log)");
            return;
        }
        Double mean = means.getOrDefault(method, stats.getMean());
        Latency latency = Latency.of(stats::getPercentile, stats.getN(), stats.getMax(), 0,
                mean > 0 ? 1e9 / mean : 0);
        paths.add(new CallPaths.Figure(method, label, "JMH, 1 thread", latency, baseline, mean));
    }
}
