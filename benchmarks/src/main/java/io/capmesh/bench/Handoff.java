package io.capmesh.bench;

import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * How long a task handed to another thread waits to start while the thread that handed it keeps computing. On a
 * shared virtual machine the second core is not always there when asked for, and every figure that relies on two
 * threads overlapping (a deploy's store write beside its loader, a runtime's call pool) pays for it; the report
 * gives it beside the machine so that those figures can be read against it.
 *
 * @param p50Micros  median wait before the task starts
 * @param p90Micros  90th percentile wait
 * @param lateShare  share of tasks that started more than half a millisecond late
 */
record Handoff(double p50Micros, double p90Micros, double lateShare) {

    private static final int TASKS = 120;
    /** The first ones run while the JIT compiles the loop. */
    private static final int UNCOUNTED = 20;
    /** About as long as a small extension's load, which the store's write runs beside. */
    private static final long BUSY_NANOS = 2_000_000;
    private static final long LATE_NANOS = 500_000;
    /** Long enough for an idle core to sleep, as it does between two deploys. */
    private static final long PARKED_MILLIS = 5;

    static Handoff measure() {
        ExecutorService other = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "bench-handoff");
            thread.setDaemon(true);
            return thread;
        });
        long[] waits = new long[TASKS];
        try {
            for (int i = 0; i < TASKS; i++) {
                Thread.sleep(PARKED_MILLIS); // the other thread parks in between, as a store writer between deploys
                int task = i;
                long handed = System.nanoTime();
                Future<?> started = other.submit(() -> waits[task] = System.nanoTime() - handed);
                while (System.nanoTime() - handed < BUSY_NANOS) {
                    Thread.onSpinWait();
                }
                started.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Handoff(Double.NaN, Double.NaN, Double.NaN);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            other.shutdownNow();
        }
        long[] counted = Arrays.copyOfRange(waits, UNCOUNTED, TASKS);
        Arrays.sort(counted);
        long late = Arrays.stream(counted).filter(wait -> wait > LATE_NANOS).count();
        return new Handoff(counted[counted.length / 2] / 1e3, counted[counted.length * 9 / 10] / 1e3,
                (double) late / counted.length);
    }

    String describe() {
        return String.format("as the run began, a task handed to another thread while the caller computes started "
                + "after %.0f us p50, %.0f us p90; %.0f %% of %d more than 0.5 ms late", p50Micros, p90Micros,
                lateShare * 100, TASKS - UNCOUNTED);
    }
}
