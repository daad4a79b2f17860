package io.capmesh.bench;

import io.capmesh.runtime.ExtensionRuntime;
import io.capmesh.runtime.loader.LoadedExtension;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What process isolation costs per call: the same echo extension loaded in-process and in a child JVM of its own,
 * each called through the runtime's engine, one call at a time from one thread. The isolated call is a gRPC call on
 * loopback to the child; the in-process one is a method call across the classloader boundary.
 */
final class IsolationCost {

    private static final byte[] PAYLOAD = "x".repeat(100).getBytes(StandardCharsets.UTF_8);

    private IsolationCost() {
    }

    static String run(Mode mode, Report report) throws Exception {
        int warmup = mode.loadWarmup();
        int calls = mode.loadWarmup() * 5;
        Table table = new Table("Process isolation: per-call cost",
                "The echo extension (100-byte payload) called " + calls + " times, one at a time, through the "
                        + "runtime's engine after " + warmup + " warm-up calls: loaded in-process, and in a child JVM "
                        + "that the runtime started and supervises (calls forwarded over gRPC on loopback). Load "
                        + "is read, start and warm-up; for the isolated one it includes starting the child JVM.",
                "loading", "load ms", "calls", "failed", "p50 us", "p99 us", "max us", "p50 vs in-process");
        try (InProcessRuntime runtime = new InProcessRuntime()) {
            ExtensionRuntime engine = runtime.host().runtime();
            LoadedExtension inProcess = runtime.deploy(runtime.jars().echo("bench-echo", "1.0.0", "bench.echo", 0));
            LoadedExtension isolated = runtime.deploy(runtime.jars().echo("bench-echo-isolated", "1.0.0",
                    "bench.echo-isolated", 0, "process"));
            Latency local = measure(engine, "bench.echo", warmup, calls);
            Latency child = measure(engine, "bench.echo-isolated", warmup, calls);
            table.row("in-process", Table.millis(inProcess.loadMicros() / 1_000.0), local.calls(), local.failed(),
                    Table.micros(local.p50()), Table.micros(local.p99()), Table.micros(local.max()), "1x");
            table.row("child JVM", Table.millis(isolated.loadMicros() / 1_000.0), child.calls(), child.failed(),
                    Table.micros(child.p50()), Table.micros(child.p99()), Table.micros(child.max()),
                    Table.ratio(child.p50(), local.p50()));
            report.add(table);
            return "in-process p50 " + Table.micros(local.p50()) + " us; child JVM p50 " + Table.micros(child.p50())
                    + " us (" + Table.ratio(child.p50(), local.p50()) + ")";
        }
    }

    private static Latency measure(ExtensionRuntime engine, String capability, int warmup, int calls) {
        for (int i = 0; i < warmup; i++) {
            engine.invoke(capability, "echo", PAYLOAD, Map.of());
        }
        Histogram histogram = Lifecycle.histogram();
        long failed = 0;
        long begin = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            long start = System.nanoTime();
            try {
                engine.invoke(capability, "echo", PAYLOAD, Map.of());
                histogram.recordValue(Math.max(1, System.nanoTime() - start));
            } catch (RuntimeException e) {
                failed++;
            }
        }
        return Latency.of(histogram, failed, (System.nanoTime() - begin) / 1e9);
    }
}
