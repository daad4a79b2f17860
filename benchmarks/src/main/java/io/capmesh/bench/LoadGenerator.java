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

    static void warmUp(Call call, int calls) {
        for (int i = 0; i < calls; i++) {
            try {
                call.call();
            } catch (Exception ignored) {
                // warm-up failures show again, counted, in the measured run
            }
        }
    }

    /** {@code callers} threads, each with one call outstanding, for {@code duration}. */
    static Latency closedLoop(Call call, int callers, Duration duration) throws InterruptedException {
        long end = System.nanoTime() + duration.toNanos();
        List<Histogram> histograms = new ArrayList<>();
        AtomicLong failed = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(callers, daemon("closed-loop"));
        try {
            List<Future<?>> running = new ArrayList<>();
            long started = System.nanoTime();
            for (int i = 0; i < callers; i++) {
                Histogram histogram = new Histogram(HIGHEST_NANOS, 3);
                histograms.add(histogram);
                running.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        long start = System.nanoTime();
                        try {
                            call.call();
                            histogram.recordValue(Math.min(System.nanoTime() - start, HIGHEST_NANOS));
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                }));
            }
            awaitAll(running);
            return Latency.of(merge(histograms), failed.get(), (System.nanoTime() - started) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Calls due every {@code 1/ratePerSecond} for {@code duration}, sent by up to {@code callers} threads; each
     * latency runs from the moment its call was due.
     */
    static Latency openLoop(Call call, double ratePerSecond, int callers, Duration duration)
            throws InterruptedException {
        long interval = Math.max(1, (long) (1e9 / ratePerSecond));
        long total = Math.max(1, duration.toNanos() / interval);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
        AtomicLong next = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<Histogram> histograms = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(callers, daemon("open-loop"));
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                Histogram histogram = new Histogram(HIGHEST_NANOS, 3);
                histograms.add(histogram);
                running.add(pool.submit(() -> {
                    for (long n = next.getAndIncrement(); n < total; n = next.getAndIncrement()) {
                        long due = start + n * interval;
                        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                            LockSupport.parkNanos(wait);
                        }
                        try {
                            call.call();
                            histogram.recordValue(Math.min(System.nanoTime() - due, HIGHEST_NANOS));
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                }));
            }
            awaitAll(running);
            return Latency.of(merge(histograms), failed.get(), (System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdownNow();
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

    private static Histogram merge(List<Histogram> histograms) {
        Histogram all = new Histogram(HIGHEST_NANOS, 3);
        histograms.forEach(all::add);
        return all;
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
