package io.capmesh.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Drives one call path with blocking calls, bounded in time, and records each call's latency in an HdrHistogram.
 *
 * <p>Closed loop: each caller sends its next call when the last one answered; it measures what one outstanding
 * call costs, as grpc-java's own {@code AsyncClient} does with one outstanding call. Open loop: calls are due at a
 * fixed rate whatever the answers do, and each latency counts from when the call was due, not from when a caller
 * got round to sending it, so a stall shows in every call it delayed (corrected for coordinated omission).
 */
final class LoadGenerator {

    /** One call of the path under test; throws when the call failed. */
    @FunctionalInterface
    interface Call {
        void call() throws Exception;
    }

    private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

    private LoadGenerator() {
    }

    /** Up to {@code calls} calls, stopping early after {@code atMost} when each call is slow. */
    static void warmUp(Call call, int calls, Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        for (int i = 0; i < calls && System.nanoTime() < end; i++) {
            try {
                call.call();
            } catch (Exception ignored) {
                // warm-up failures show again, counted, in the measured run
            }
        }
    }

    /** How a warm-up until steady went: its length, its calls, and whether the latency settled before the cap. */
    record WarmUp(Duration took, long calls, boolean settled) {
    }

    /**
     * Calls in slices of {@code slice} until the median stops falling: two slices in a row no more than 5 % better
     * than the best before them, or {@code atMost} has passed. A path through several JVMs warms only as fast as
     * each of them compiles its own part, so a fixed count of slow calls can leave it measured half warm.
     */
    static WarmUp warmUntilSteady(Call call, Duration slice, Duration atMost) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + atMost.toNanos();
        Steady steady = new Steady();
        long calls = 0;
        while (System.nanoTime() < end && !steady.settled()) {
            Latency latency = closedLoop(call, 1, slice);
            calls += latency.calls() + latency.failed();
            steady.slice(latency.calls() > 0 ? latency.p50() : Double.NaN);
        }
        return new WarmUp(Duration.ofNanos(System.nanoTime() - start), calls, steady.settled());
    }

    /** Whether a median has stopped falling: two slices in a row no more than 5 % better than the best before. */
    static final class Steady {
        private double best = Double.MAX_VALUE;
        private int flat;

        /** @param median this slice's median, NaN when it measured nothing */
        void slice(double median) {
            if (median < best * 0.95) {
                flat = 0;
            } else {
                flat++;
            }
            if (!Double.isNaN(median)) {
                best = Math.min(best, median);
            }
        }

        boolean settled() {
            return flat >= 2;
        }
    }

    /** {@code callers} threads, each with one call outstanding, for {@code duration}. */
    static Latency closedLoop(Call call, int callers, Duration duration) throws InterruptedException {
        Run run = new Run();
        run.closedLoop(call, callers, duration);
        return run.latency();
    }

    /**
     * Calls due every {@code 1/ratePerSecond} for {@code duration}, sent by up to {@code callers} threads; each
     * latency runs from the moment its call was due.
     */
    static Latency openLoop(Call call, double ratePerSecond, int callers, Duration duration)
            throws InterruptedException {
        Run run = new Run();
        run.openLoop(call, ratePerSecond, callers, duration);
        return run.latency();
    }

    /**
     * Several paths measured side by side, closed loop with one caller: each runs for {@code duration / turns} at a
     * time, taking turns (A B C, then C B A, ...) until each has had {@code duration}, so a change in the machine's
     * load falls on every path alike and their ratios hold even when single figures drift.
     */
    static List<Latency> inTurns(List<Call> calls, int turns, Duration duration) throws InterruptedException {
        return inTurns(calls, turns, duration, (run, call, slice) -> run.closedLoop(call, 1, slice));
    }

    /** As {@link #inTurns(List, int, Duration)}, each path open loop at {@code ratePerSecond}. */
    static List<Latency> openInTurns(List<Call> calls, double ratePerSecond, int callers, int turns,
                                     Duration duration) throws InterruptedException {
        return inTurns(calls, turns, duration, (run, call, slice) -> run.openLoop(call, ratePerSecond, callers,
                slice));
    }

    /** One slice of one path's measurement. */
    @FunctionalInterface
    private interface Slice {
        void measure(Run run, Call call, Duration slice) throws InterruptedException;
    }

    private static List<Latency> inTurns(List<Call> calls, int turns, Duration duration, Slice slice)
            throws InterruptedException {
        List<Run> runs = new ArrayList<>();
        calls.forEach(call -> runs.add(new Run()));
        int slices = Math.max(1, turns);
        for (int turn = 0; turn < slices; turn++) {
            for (int i = 0; i < calls.size(); i++) {
                int path = turn % 2 == 0 ? i : calls.size() - 1 - i;
                slice.measure(runs.get(path), calls.get(path), duration.dividedBy(slices));
            }
        }
        return runs.stream().map(Run::latency).toList();
    }

    /** What the runs of one path recorded, added up over one or more slices of time. */
    private static final class Run {
        private final Histogram histogram = new Histogram(HIGHEST_NANOS, 3);
        private long failed;
        private long nanos;

        void closedLoop(Call call, int callers, Duration duration) throws InterruptedException {
            long end = System.nanoTime() + duration.toNanos();
            run(callers, "closed-loop", (recorded, failures) -> {
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    try {
                        call.call();
                        recorded.recordValue(Math.min(System.nanoTime() - start, HIGHEST_NANOS));
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                }
            });
        }

        void openLoop(Call call, double ratePerSecond, int callers, Duration duration) throws InterruptedException {
            long interval = Math.max(1, (long) (1e9 / ratePerSecond));
            long total = Math.max(1, duration.toNanos() / interval);
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
            AtomicLong next = new AtomicLong();
            run(callers, "open-loop", (recorded, failures) -> {
                for (long n = next.getAndIncrement(); n < total; n = next.getAndIncrement()) {
                    long due = start + n * interval;
                    for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                        LockSupport.parkNanos(wait);
                    }
                    try {
                        call.call();
                        recorded.recordValue(Math.min(System.nanoTime() - due, HIGHEST_NANOS));
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                }
            });
        }

        /** What one caller thread does, recording into its own histogram. */
        @FunctionalInterface
        private interface Caller {
            void run(Histogram recorded, AtomicLong failures);
        }

        private void run(int callers, String name, Caller caller) throws InterruptedException {
            List<Histogram> histograms = new ArrayList<>();
            AtomicLong failures = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(callers, daemon(name));
            try {
                List<Future<?>> running = new ArrayList<>();
                long started = System.nanoTime();
                for (int i = 0; i < callers; i++) {
                    Histogram each = new Histogram(HIGHEST_NANOS, 3);
                    histograms.add(each);
                    running.add(pool.submit(() -> caller.run(each, failures)));
                }
                awaitAll(running);
                nanos += System.nanoTime() - started;
                histograms.forEach(histogram::add);
                failed += failures.get();
            } finally {
                pool.shutdownNow();
            }
        }

        Latency latency() {
            return Latency.of(histogram, failed, nanos / 1e9);
        }
    }

    private static void awaitAll(List<Future<?>> running) throws InterruptedException {
        for (Future<?> future : running) {
            try {
                future.get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("a load generator thread failed", e.getCause());
            }
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicLong count = new AtomicLong();
        return task -> {
            Thread thread = new Thread(task, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
