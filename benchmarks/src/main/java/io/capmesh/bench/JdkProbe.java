package io.capmesh.bench;

import java.time.Duration;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The figures {@link JdkComparison} takes on one JDK, in a JVM of that JDK started with the runtime's flags. Prints
 * one line per figure, {@code jdk-probe name value...}:
 * <ul>
 *   <li>{@code hop P50_NS P99_NS}: the runtime's Invoke over loopback gRPC, client and server in this JVM, one caller,
 *       warm;</li>
 *   <li>{@code unload P50_MS P99_MS LEAKED FULL_GCS}: the small extension's load, swap and unload until collected,
 *       after untimed cycles;</li>
 *   <li>{@code swap CALLS FAILED MIXED SWAP_P50_MS DURING_P99_MS OTHERWISE_P99_MS}: swaps under the mode's highest
 *       concurrency of calls.</li>
 * </ul>
 */
final class JdkProbe {

    /** Starts each line of figures, so that nothing else the JVM prints is taken for one. */
    static final String PREFIX = "jdk-probe";
    private static final Duration HOP_AT_MOST = Duration.ofSeconds(5);

    private JdkProbe() {
    }

    public static void main(String[] args) {
        // exits either way: a library's lingering non-daemon thread must not keep the probe alive
        try {
            Mode mode = Mode.named(args[0]);
            hop(mode);
            unload(mode);
            swap(mode);
            System.out.flush();
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void hop(Mode mode) throws Exception {
        CallPathBenchmarks.Runtime state = new CallPathBenchmarks.Runtime();
        state.start(); // a start that fails ends the probe, and its JVM with whatever it started
        try {
            LoadGenerator.Call call = () -> state.loopback.invoke(state.request);
            // at most 5 s measured: the comparison repeats it on each JDK, and the call-path table has the long run
            Duration measured = mode.loadDuration().compareTo(HOP_AT_MOST) < 0 ? mode.loadDuration() : HOP_AT_MOST;
            LoadGenerator.warmUntilSteady(call, measured.dividedBy(10), measured.multipliedBy(3));
            Latency hop = LoadGenerator.closedLoop(call, 1, measured);
            print("hop", hop.p50(), hop.p99());
        } finally {
            state.stop();
        }
    }

    private static void unload(Mode mode) {
        int runs = mode.lifecycleRuns().get(Lifecycle.Size.SMALL.ordinal());
        Histogram unload = Lifecycle.histogram();
        long leaked = 0;
        try (InProcessRuntime runtime = new InProcessRuntime()) {
            for (int run = 0; run < runs; run++) { // untimed: the host's code compiled, as in the lifecycle table
                Lifecycle.cycle(runtime, Lifecycle.Size.SMALL, run);
            }
            long fullGcsBefore = Lifecycle.fullGcs();
            for (int run = runs; run < 2 * runs; run++) {
                Lifecycle.Cycle cycle = Lifecycle.cycle(runtime, Lifecycle.Size.SMALL, run);
                unload.recordValue(cycle.unloadNanos());
                leaked += cycle.leaked();
            }
            print("unload", unload.getValueAtPercentile(50) / 1e6, unload.getValueAtPercentile(99) / 1e6, leaked,
                    Lifecycle.fullGcs() - fullGcsBefore);
        }
    }

    private static void swap(Mode mode) throws InterruptedException {
        int concurrency = mode.swapConcurrency().get(mode.swapConcurrency().size() - 1);
        try (InProcessRuntime runtime = new InProcessRuntime()) {
            Lifecycle.SwapLoad.Outcome outcome = new Lifecycle.SwapLoad(runtime, concurrency).run(mode.swapsPerLevel());
            print("swap", outcome.calls(), outcome.failed(), outcome.mixed(), outcome.swapMillisP50(),
                    outcome.during().getValueAtPercentile(99) / 1e6,
                    outcome.otherwise().getValueAtPercentile(99) / 1e6);
        }
    }

    private static void print(String name, Object... values) {
        StringBuilder line = new StringBuilder(PREFIX).append(' ').append(name);
        for (Object value : values) {
            line.append(' ').append(value instanceof Double d ? String.format(Locale.ROOT, "%.6f", d) : value);
        }
        System.out.println(line);
    }
}
