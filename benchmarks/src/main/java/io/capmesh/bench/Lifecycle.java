package io.capmesh.bench;

import io.capmesh.bench.extensions.ActiveTasksExtension;
import io.capmesh.bench.extensions.FinalizerExtension;
import io.capmesh.bench.extensions.TimerExtension;
import io.capmesh.runtime.ExtensionRuntime;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.runtime.reclaim.LeakPath;
import io.capmesh.runtime.reclaim.LeakPaths;
import io.capmesh.runtime.reclaim.Reclamation;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Extension lifecycle figures, measured on a runtime host in this JVM (started with the runtime's flags): load and
 * first call, full swap and unload until collected by jar size; swaps under concurrent calls; the reclamation
 * scenarios of DESIGN.md.
 */
final class Lifecycle {

    /** Sizes the figures are given for; medium and large are the echo extension padded with data. */
    enum Size {
        SMALL("small", 0), MEDIUM("medium", 1L << 20), LARGE("large", 6L << 20);

        final String label;
        final long padBytes;

        Size(String label, long padBytes) {
            this.label = label;
            this.padBytes = padBytes;
        }
    }

    private static final Map<String, String> NO_ATTRIBUTES = Map.of();
    /** Runs per warm-up slice: enough for a stable median of a few-millisecond load. */
    private static final int WARM_UP_SLICE = 40;

    private final Mode mode;
    private final Report report;
    private final Targets targets;

    Lifecycle(Mode mode, Report report, Targets targets) {
        this.mode = mode;
        this.report = report;
        this.targets = targets;
    }

    // ---- load, swap, unload --------------------------------------------------------------------------------

    String loadSwapUnload() {
        LoadGenerator.WarmUp warm = warmUp();
        Table table = new Table("Extension lifecycle by jar size",
                "Each run: deploy a new version (read, check, persist, load, warm up, publish) and make its first "
                        + "call; swap in another version (the figure is build + switch; the old version's drain and "
                        + "collection follow); unload until the classloader is collected. The load splits into the "
                        + "package's read and checks, the loader's own time, the rest of the deploy (waiting for the "
                        + "store's write, which runs beside the loader, and publishing) and the first call. Full GCs "
                        + "counts stop-the-world collections during the unloads (concurrent cycles are not counted). "
                        + String.format("Measured after %d untimed runs of the small extension in %.0f s (%s), as every "
                        + "other path here is measured warm.", warm.calls(), warm.took().toMillis() / 1e3,
                        warm.settled() ? "until the load's median stopped falling" : "the cap; still falling"),
                "size", "jar KB", "runs", "load + first call p50 ms", "p99 ms", "of it: read + check p50 ms",
                "classloader + classes + start p50 ms", "waiting for the store + publish p50 ms", "first call p50 ms",
                "swap p50 ms", "p99 ms", "unload until collected p50 ms", "p99 ms", "leaked", "full GCs",
                "load ratio to small");
        double smallLoadP50 = Double.NaN;
        StringBuilder summary = new StringBuilder();
        for (Size size : Size.values()) {
            int runs = mode.lifecycleRuns().get(size.ordinal());
            Histogram load = histogram();
            Histogram read = histogram();
            Histogram start = histogram();
            Histogram store = histogram();
            Histogram call = histogram();
            Histogram swap = histogram();
            Histogram unload = histogram();
            long leaked = 0;
            long jarBytes = 0;
            long fullGcsBefore = fullGcs();
            try (InProcessRuntime runtime = new InProcessRuntime()) {
                for (int run = 0; run < runs; run++) {
                    Cycle cycle = cycle(runtime, size, run);
                    jarBytes = cycle.jarBytes();
                    load.recordValue(cycle.loadNanos());
                    read.recordValue(cycle.readNanos());
                    start.recordValue(cycle.startNanos());
                    store.recordValue(cycle.storeNanos());
                    call.recordValue(cycle.callNanos());
                    swap.recordValue(cycle.swapNanos());
                    unload.recordValue(cycle.unloadNanos());
                    leaked += cycle.leaked();
                }
            }
            long fullGcs = fullGcs() - fullGcsBefore;
            double loadP50 = ms(load, 50);
            if (size == Size.SMALL) {
                smallLoadP50 = loadP50;
                targets.measured(Targets.Goal.LOAD, String.format("%.2f ms p50, %.2f ms p99 (read + check %.2f ms, "
                                + "classloader + classes + start %.2f ms, waiting for the store + publish %.2f ms, "
                                + "first call %.2f ms p50)", loadP50, ms(load, 99), ms(read, 50), ms(start, 50),
                                ms(store, 50), ms(call, 50)),
                        loadP50 <= 3 && ms(load, 99) <= 10);
                targets.measured(Targets.Goal.SWAP, String.format("%.2f ms p50, %.2f ms p99", ms(swap, 50),
                        ms(swap, 99)), ms(swap, 50) <= 10 && ms(swap, 99) <= 50);
                targets.measured(Targets.Goal.UNLOAD, String.format("%.0f ms p50, %.0f ms p99, %d full GC(s), "
                                + "%d leaked", ms(unload, 50), ms(unload, 99), fullGcs, leaked),
                        ms(unload, 50) <= 100 && ms(unload, 99) <= 500 && fullGcs == 0 && leaked == 0);
            }
            table.row(size.label, jarBytes / 1024, runs, Table.millis(loadP50), Table.millis(ms(load, 99)),
                    Table.millis(ms(read, 50)), Table.millis(ms(start, 50)), Table.millis(ms(store, 50)),
                    Table.millis(ms(call, 50)), Table.millis(ms(swap, 50)), Table.millis(ms(swap, 99)),
                    Table.millis(ms(unload, 50)), Table.millis(ms(unload, 99)), leaked, fullGcs,
                    Table.ratio(loadP50, smallLoadP50));
            summary.append(String.format("%s load %.1f ms, swap %.1f ms, unload %.0f ms; ", size.label, loadP50,
                    ms(swap, 50), ms(unload, 50)));
        }
        report.add(table);
        return summary.toString();
    }

    /**
     * One run's figures: load + first call, and of it the package's read and checks, the loader's own time
     * (classloader, classes, start), the rest of the deploy (waiting for the store's write, which runs beside the
     * loader, and publishing) and the first call; {@code leaked} counts the versions (of two) reported leaked.
     */
    record Cycle(long jarBytes, long loadNanos, long readNanos, long startNanos, long storeNanos, long callNanos,
                 long swapNanos, long unloadNanos, int leaked) {
    }

    /** Deploys version {@code 1.run.0} of the size's echo extension and calls it, swaps in 1.run.1, unloads it. */
    static Cycle cycle(InProcessRuntime runtime, Size size, int run) {
        ExtensionRuntime engine = runtime.host().runtime();
        String id = "bench-" + size.label;
        String capability = "bench." + size.label;
        Path first = runtime.jars().echo(id, "1." + run + ".0", capability, size.padBytes);
        Path second = runtime.jars().echo(id, "1." + run + ".1", capability, size.padBytes);

        long start = System.nanoTime();
        ExtensionPackage read = runtime.read(first);
        long readNanos = System.nanoTime() - start;
        long startNanos = engine.deploy(read).loadMicros() * 1_000;
        long deployed = System.nanoTime();
        engine.invoke(capability, "echo", new byte[100], NO_ATTRIBUTES);
        long load = System.nanoTime() - start;

        ExtensionRuntime.Swapped swapped = engine.swap(runtime.read(second));
        Reclamation unloaded = engine.unload(id, "", Duration.ZERO);
        int leaked = (swapped.previous().state() == Reclamation.State.LEAKED ? 1 : 0)
                + (unloaded.state() == Reclamation.State.LEAKED ? 1 : 0);
        long jarBytes = size(first);
        delete(first, second);
        return new Cycle(jarBytes, load, readNanos, startNanos, deployed - start - readNanos - startNanos,
                start + load - deployed, swapped.swapMicros() * 1_000, unloaded.millis() * 1_000_000, leaked);
    }

    /**
     * Runs small cycles, untimed, in slices until the load's median stops falling (or at the first slice boundary
     * after three load runs' length): the host's reading, checking and loading code is otherwise measured while the
     * JIT still compiles it (in a probe, the first hundred runs took 1.2 to 1.4 times as long as the hundred after
     * the 300th).
     */
    private LoadGenerator.WarmUp warmUp() {
        long start = System.nanoTime();
        long end = start + mode.loadDuration().multipliedBy(3).toNanos();
        LoadGenerator.Steady steady = new LoadGenerator.Steady();
        int slice = Math.min(WARM_UP_SLICE, mode.lifecycleRuns().get(Size.SMALL.ordinal()));
        int runs = 0;
        try (InProcessRuntime runtime = new InProcessRuntime()) {
            while (System.nanoTime() < end && !steady.settled()) {
                Histogram load = histogram();
                for (int i = 0; i < slice; i++) {
                    load.recordValue(cycle(runtime, Size.SMALL, runs++).loadNanos());
                }
                steady.slice(load.getValueAtPercentile(50));
            }
        }
        return new LoadGenerator.WarmUp(Duration.ofNanos(System.nanoTime() - start), runs, steady.settled());
    }

    // ---- swap under load -----------------------------------------------------------------------------------

    String swapUnderLoad() throws InterruptedException {
        Table table = new Table("Swap under concurrent calls",
                "Callers keep the given number of core.echo `hold` calls (2 ms each; 1 ms per 50 callers above 100) "
                        + "in flight through the runtime "
                        + "while it swaps versions; each answer names the version that ran it, which must be the "
                        + "version the runtime says answered. p99 during swap is over calls that overlapped a swap; "
                        + "its ratio is to calls that did not.",
                "concurrent calls", "swaps", "calls", "failed", "failed %", "served by two versions",
                "p99 during swap ms", "p99 otherwise ms", "ratio", "swap p50 ms");
        StringBuilder summary = new StringBuilder();
        for (int concurrency : mode.swapConcurrency()) {
            try (InProcessRuntime runtime = new InProcessRuntime()) {
                SwapLoad load = new SwapLoad(runtime, concurrency);
                SwapLoad.Outcome outcome = load.run(mode.swapsPerLevel());
                table.row(concurrency, outcome.swaps(), outcome.calls(), outcome.failed(),
                        String.format("%.3f", 100.0 * outcome.failed() / Math.max(1, outcome.calls())),
                        outcome.mixed(), Table.millis(outcome.during().getValueAtPercentile(99) / 1e6),
                        Table.millis(outcome.otherwise().getValueAtPercentile(99) / 1e6),
                        Table.ratio(outcome.during().getValueAtPercentile(99),
                                outcome.otherwise().getValueAtPercentile(99)),
                        Table.millis(outcome.swapMillisP50()));
                summary.append(String.format("%d: %d/%d failed; ", concurrency, outcome.failed(), outcome.calls()));
                if (concurrency == 1000) {
                    targets.measured(Targets.Goal.SWAP_UNDER_LOAD, String.format("%d of %d failed, %d served by two "
                                    + "versions (%d swaps)", outcome.failed(), outcome.calls(), outcome.mixed(),
                            outcome.swaps()), outcome.failed() == 0 && outcome.mixed() == 0);
                }
            }
        }
        report.add(table);
        return summary.toString();
    }

    /** Concurrent hold calls against one runtime while it swaps. */
    static final class SwapLoad {
        record Outcome(int swaps, long calls, long failed, long mixed, Histogram during, Histogram otherwise,
                       double swapMillisP50) {
        }

        private final InProcessRuntime runtime;
        private final int concurrency;

        SwapLoad(InProcessRuntime runtime, int concurrency) {
            this.runtime = runtime;
            this.concurrency = concurrency;
        }

        Outcome run(int swaps) throws InterruptedException {
            ExtensionRuntime engine = runtime.host().runtime();
            List<ExtensionPackage> versions = new ArrayList<>();
            for (int v = 0; v <= swaps; v++) {
                versions.add(runtime.read(runtime.jars().echo("core-echo", "2.0." + v, "core.echo", 0)));
            }
            engine.deploy(versions.get(0));
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong failed = new AtomicLong();
            AtomicLong mixed = new AtomicLong();
            long[][] starts = new long[concurrency][];
            long[][] ends = new long[concurrency][];
            int[] counts = new int[concurrency];
            CountDownLatch done = new CountDownLatch(concurrency);
            // longer holds at high concurrency keep the callers from saturating two cores on their own
            long holdMillis = Math.max(2, concurrency / 50);
            byte[] hold = String.valueOf(holdMillis).getBytes(StandardCharsets.UTF_8);
            List<Thread> callers = new ArrayList<>();
            for (int c = 0; c < concurrency; c++) {
                int me = c;
                starts[me] = new long[1024];
                ends[me] = new long[1024];
                Thread caller = new Thread(() -> {
                    try {
                        while (running.get()) {
                            long start = System.nanoTime();
                            try {
                                ExtensionRuntime.Invoked answer = engine.invoke("core.echo", "hold", hold, NO_ATTRIBUTES);
                                String text = new String(answer.payload(), StandardCharsets.UTF_8);
                                if (!text.startsWith(answer.version() + " ")) {
                                    mixed.incrementAndGet();
                                }
                            } catch (RuntimeException e) {
                                failed.incrementAndGet();
                            }
                            long end = System.nanoTime();
                            if (counts[me] == starts[me].length) {
                                starts[me] = Arrays.copyOf(starts[me], counts[me] * 2);
                                ends[me] = Arrays.copyOf(ends[me], counts[me] * 2);
                            }
                            starts[me][counts[me]] = start;
                            ends[me][counts[me]++] = end;
                        }
                    } finally {
                        done.countDown();
                    }
                }, "bench-swap-caller-" + c);
                caller.setDaemon(true);
                callers.add(caller);
                caller.start();
            }
            Thread.sleep(300);
            long[] swapStart = new long[swaps];
            long[] swapEnd = new long[swaps];
            Histogram swapTimes = histogram();
            for (int s = 0; s < swaps; s++) {
                swapStart[s] = System.nanoTime();
                ExtensionRuntime.Swapped swapped = engine.swap(versions.get(s + 1));
                swapEnd[s] = System.nanoTime();
                swapTimes.recordValue(swapped.swapMicros() * 1_000);
                Thread.sleep(200);
            }
            running.set(false);
            done.await();
            for (Thread caller : callers) {
                caller.join();
            }
            Histogram during = histogram();
            Histogram otherwise = histogram();
            long calls = 0;
            for (int c = 0; c < concurrency; c++) {
                for (int i = 0; i < counts[c]; i++) {
                    long latency = ends[c][i] - starts[c][i];
                    boolean overlapped = false;
                    for (int s = 0; s < swaps && !overlapped; s++) {
                        overlapped = starts[c][i] < swapEnd[s] && ends[c][i] > swapStart[s];
                    }
                    (overlapped ? during : otherwise).recordValue(latency);
                    calls++;
                }
            }
            return new Outcome(swaps, calls, failed.get(), mixed.get(), during, otherwise,
                    swapTimes.getValueAtPercentile(50) / 1e6);
        }
    }

    // ---- reclamation ---------------------------------------------------------------------------------------

    /** A reclamation scenario: which design row it stands for, the jar, and the method that exercises it. */
    private record Scenario(String row, String what, Path jar, String capability, String method) {
    }

    String reclamation() throws Exception {
        Table table = new Table("Reclamation scenarios",
                "Each run deploys the extension, calls it once, and unloads it: the runtime cleans up what it safely "
                        + "can, then either sees the classloader collected or reports a leak naming the cause, after "
                        + "a window of " + mode.reclaimWindow().toMillis() + " ms. Time runs from the start of the "
                        + "unload to the verdict.",
                "design row", "extension", "runs", "collected", "leak reported", "neither", "time p50 ms", "max ms",
                "what the runtime cleaned or reported");
        StringBuilder summary = new StringBuilder();
        boolean allAccounted = true;
        long slowest = 0;
        try (InProcessRuntime runtime = new InProcessRuntime(mode.reclaimWindow(), Duration.ofSeconds(1))) {
            ExtensionJars jars = runtime.jars();
            List<Scenario> scenarios = List.of(
                    new Scenario("plain", "core.echo", jars.shipped(ExtensionJars.ECHO), "core.echo", "echo"),
                    new Scenario("timers", "java.util.Timer left scheduled (bench)",
                            jars.ofClasses("bench-timer", "1.0.0", "bench.timer", List.of("ok"), TimerExtension.class),
                            "bench.timer", "ok"),
                    new Scenario("timers", "timer + thread ignoring interrupts (misbehaving thread-timer)",
                            jars.shipped("capmesh-ext-misbehaving-thread-timer.jar"), "test.thread-timer", "ok"),
                    new Scenario("static state", "thread-local on a pooled host thread (misbehaving thread-local)",
                            jars.shipped("capmesh-ext-misbehaving-thread-local.jar"), "test.thread-local",
                            "remember"),
                    new Scenario("static state", "JDBC driver in DriverManager (misbehaving jdbc-driver)",
                            jars.shipped("capmesh-ext-misbehaving-jdbc-driver.jar"), "test.jdbc-driver", "ok"),
                    new Scenario("static state", "shutdown hook registered (misbehaving shutdown-hook)",
                            jars.shipped("capmesh-ext-misbehaving-shutdown-hook.jar"), "test.shutdown-hook", "ok"),
                    new Scenario("finalizers", "10k objects with finalizers (bench)",
                            jars.ofClasses("bench-finalizers", "1.0.0", "bench.finalizers", List.of("ok"),
                                    FinalizerExtension.class), "bench.finalizers", "ok"),
                    new Scenario("active tasks", "own pools with periodic and running tasks (bench)",
                            jars.ofClasses("bench-active-tasks", "1.0.0", "bench.active-tasks", List.of("ok"),
                                    ActiveTasksExtension.class), "bench.active-tasks", "ok"),
                    new Scenario("active tasks", "scheduled executor never shut down (misbehaving scheduled-executor)",
                            jars.shipped("capmesh-ext-misbehaving-scheduled-executor.jar"),
                            "test.scheduled-executor", "ok"),
                    new Scenario("static state", "handler on the root logger, custom level (misbehaving "
                            + "logging-handler)", jars.shipped("capmesh-ext-misbehaving-logging-handler.jar"),
                            "test.logging-handler", "ok"),
                    new Scenario("static state", "default uncaught-exception handler (misbehaving uncaught-handler)",
                            jars.shipped("capmesh-ext-misbehaving-uncaught-handler.jar"), "test.uncaught-handler",
                            "ok"),
                    new Scenario("static state", "security provider added (misbehaving security-provider)",
                            jars.shipped("capmesh-ext-misbehaving-security-provider.jar"), "test.security-provider",
                            "ok"),
                    new Scenario("static state", "platform MBean registered (misbehaving mbean)",
                            jars.shipped("capmesh-ext-misbehaving-mbean.jar"), "test.mbean", "ok"),
                    new Scenario("static state", "resource bundle cache (misbehaving resource-bundle)",
                            jars.shipped("capmesh-ext-misbehaving-resource-bundle.jar"), "test.resource-bundle", "ok"),
                    new Scenario("static state", "java.beans introspection caches (misbehaving beans-introspector)",
                            jars.shipped("capmesh-ext-misbehaving-beans-introspector.jar"), "test.beans-introspector",
                            "ok"),
                    new Scenario("finalizers", "a finalizer that makes the loader reachable again (misbehaving "
                            + "resurrect): must be a leak report, never a collection",
                            jars.shipped("capmesh-ext-misbehaving-resurrect.jar"), "test.resurrect", "ok"));
            ExtensionRuntime engine = runtime.host().runtime();
            for (Scenario scenario : scenarios) {
                int collected = 0;
                int leaked = 0;
                Histogram times = histogram();
                String detail = "";
                for (int run = 0; run < mode.reclaimRuns(); run++) {
                    var loaded = engine.deploy(runtime.read(scenario.jar()));
                    // on the runtime's call pool, as a gRPC call would run: thread-locals land on a pooled thread
                    runtime.host().callExecutor().submit(() -> engine.invoke(scenario.capability(), scenario.method(),
                            "x".getBytes(StandardCharsets.UTF_8), NO_ATTRIBUTES)).get();
                    Reclamation verdict = engine.unload(loaded.manifest().id(), "", Duration.ZERO);
                    times.recordValue(Math.max(1, verdict.millis()) * 1_000_000);
                    if (verdict.state() == Reclamation.State.COLLECTED) {
                        collected++;
                        if (!verdict.cleaned().isEmpty()) {
                            detail = "cleaned: " + String.join("; ", verdict.cleaned());
                        }
                    } else {
                        leaked++;
                        detail = "leak: " + String.join("; ", verdict.causes());
                    }
                }
                Thread.setDefaultUncaughtExceptionHandler(null); // what the resurrecting finalizer set
                int neither = mode.reclaimRuns() - collected - leaked;
                allAccounted &= neither == 0 && times.getMaxValue() <= 2_000_000_000L;
                slowest = Math.max(slowest, times.getMaxValue());
                table.row(scenario.row(), scenario.what(), mode.reclaimRuns(), collected, leaked, neither,
                        Table.millis(times.getValueAtPercentile(50) / 1e6), Table.millis(times.getMaxValue() / 1e6),
                        shorten(detail.isEmpty() ? "nothing to clean" : detail));
                summary.append(scenario.row()).append(' ').append(collected).append('/').append(leaked).append("; ");
            }
        }
        targets.measured(Targets.Goal.RECLAIM, String.format("every run collected or leak-reported, slowest %d ms",
                slowest / 1_000_000), allAccounted);
        report.add(table);
        return summary.toString();
    }

    // ---- leak paths ----------------------------------------------------------------------------------------

    private static final java.util.regex.Pattern DUMP_NOTE = java.util.regex.Pattern.compile(
            "from a ([0-9.]+) MB heap dump \\(a ([0-9]+) ms pause\\), analysed in ([0-9]+) ms");
    private static final int LOADED_BESIDE_THE_LEAK = 100;

    /**
     * From unload to the leak's named reference path, with 100 small extensions loaded, while calls go on: the
     * runtime dumps its heap (the pause every call feels) and a child JVM analyses the dump.
     */
    String leakPaths() throws Exception {
        int runs = Math.min(3, mode.reclaimRuns());
        Table table = new Table("Leak paths",
                "With " + LOADED_BESIDE_THE_LEAK + " small extensions loaded, an extension that put an object of its "
                        + "own into the system properties (a holder no cleanup knows) is unloaded; the runtime dumps "
                        + "its heap and a child JVM finds the path from a GC root with Shark. One caller keeps "
                        + "calling a loaded extension meanwhile, one call at a time.",
                "run", "unload to path ms", "verdict ms", "dump MB", "dump pause ms", "analysis ms",
                "calls meanwhile", "call p50 us", "call max ms", "path ends");
        Histogram toPath = histogram();
        double largestDump = 0;
        long longestPause = 0;
        String key = "capmesh.test.system-property";
        try (InProcessRuntime runtime = new InProcessRuntime(mode.reclaimWindow(), Duration.ofSeconds(1),
                settings -> settings.withLeakPaths(new LeakPaths.Settings(LeakPaths.Mode.EVERY_LEAK, Duration.ZERO,
                        1L << 30, settings.dataDirectory().resolve("heap-dumps"), "512m", Duration.ofMinutes(3))))) {
            ExtensionRuntime engine = runtime.host().runtime();
            for (int i = 0; i < LOADED_BESIDE_THE_LEAK; i++) {
                runtime.deploy(runtime.jars().echo("bench-loaded-" + i, "1.0.0", "bench.loaded-" + i, 0));
            }
            Path leaky = runtime.jars().shipped("capmesh-ext-misbehaving-system-property.jar");
            for (int run = 1; run <= runs; run++) {
                runtime.deploy(leaky);
                AtomicBoolean calling = new AtomicBoolean(true);
                Histogram calls = histogram();
                Thread caller = new Thread(() -> {
                    byte[] payload = "x".getBytes(StandardCharsets.UTF_8);
                    while (calling.get()) {
                        long start = System.nanoTime();
                        engine.invoke("bench.loaded-0", "echo", payload, NO_ATTRIBUTES);
                        calls.recordValue(System.nanoTime() - start);
                    }
                }, "bench-caller");
                caller.start();
                long start = System.nanoTime();
                Reclamation verdict = engine.unload("system-property", "", Duration.ZERO);
                Reclamation withPath = engine.awaitLeakPath(verdict, Duration.ofMinutes(3));
                long took = System.nanoTime() - start;
                calling.set(false);
                caller.join();
                System.getProperties().remove(key); // lets this run's loader go before the next
                java.util.regex.Matcher note = DUMP_NOTE.matcher(withPath.leakPathNote());
                boolean found = withPath.leakPath() != null && note.find();
                if (found) {
                    toPath.recordValue(took);
                    largestDump = Math.max(largestDump, Double.parseDouble(note.group(1)));
                    longestPause = Math.max(longestPause, Long.parseLong(note.group(2)));
                }
                List<LeakPath.Step> steps = withPath.leakPath() == null ? List.of() : withPath.leakPath().steps();
                table.row(run, Table.millis(took / 1e6), verdict.millis(), found ? note.group(1) : "-",
                        found ? note.group(2) : "-", found ? note.group(3) : "-", calls.getTotalCount(),
                        Table.millis(ms(calls, 50) * 1000), Table.millis(calls.getMaxValue() / 1e6),
                        steps.isEmpty() ? shorten(withPath.leakPathNote())
                                : steps.get(0).reference() + " ... " + steps.get(steps.size() - 1).object());
            }
        } finally {
            System.getProperties().remove(key);
        }
        boolean met = toPath.getTotalCount() == runs && toPath.getMaxValue() <= Duration.ofSeconds(5).toNanos();
        targets.measured(Targets.Goal.LEAK_PATH, String.format("%s; dump up to %.1f MB, pause up to %d ms",
                toPath.getTotalCount() == 0 ? "no path found" : String.format("p50 %.0f ms, max %.0f ms",
                        ms(toPath, 50), toPath.getMaxValue() / 1e6), largestDump, longestPause), met);
        report.add(table);
        return toPath.getTotalCount() + "/" + runs + " paths found, max "
                + Table.millis(toPath.getMaxValue() / 1e6) + " ms";
    }

    private static String shorten(String text) {
        String oneLine = text.replace('\n', ' ').replace("|", "/");
        return oneLine.length() <= 220 ? oneLine : oneLine.substring(0, 217) + "...";
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /** A percentile of a histogram of nanoseconds, in milliseconds. */
    private static double ms(Histogram nanos, double percentile) {
        return nanos.getValueAtPercentile(percentile) / 1e6;
    }

    static Histogram histogram() {
        return new Histogram(Duration.ofMinutes(5).toNanos(), 3);
    }

    /** Stop-the-world full collections so far (G1's concurrent cycles are not counted by this bean). */
    static long fullGcs() {
        long count = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc.getName().contains("Old") || gc.getName().contains("MarkSweep")) {
                count += Math.max(0, gc.getCollectionCount());
            }
        }
        return count;
    }

    private static long size(Path jar) {
        try {
            return Files.size(jar);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static void delete(Path... jars) {
        for (Path jar : jars) {
            jar.toFile().delete();
        }
    }
}
