package io.capmesh.stub;

import io.grpc.Context;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Several capability calls under one deadline: a sequence, or a fan-out across runtimes. Every call made inside
 * runs in a gRPC {@link Context} with that deadline, which caps each attempt (and its retries) by the time left,
 * so the composition as a whole ends by its deadline, whatever the per-attempt timeout is.
 *
 * <pre>{@code
 * byte[] signed = Composition.sequence(Duration.ofMillis(500), () -> {
 *     byte[] rows = data.invoke("query", request);
 *     byte[] scores = ml.invoke("infer", toTensor(rows));
 *     return crypto.invoke("sign", scores);
 * });
 * }</pre>
 */
public final class Composition {

    private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(
            daemon("capmesh-composition-deadline"));
    private static final ExecutorService BRANCHES = Executors.newCachedThreadPool(daemon("capmesh-fan-out"));

    private Composition() {
    }

    /** Runs {@code steps} (calls one after another) with {@code deadline} for all of them together. */
    public static <T> T sequence(Duration deadline, Callable<T> steps) {
        Context.CancellableContext context = Context.current()
                .withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS, DEADLINES);
        try {
            return context.call(steps);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("a step of the composition failed: " + e, e);
        } finally {
            context.cancel(null);
        }
    }

    /**
     * Runs the branches at once, each on its own thread, with {@code deadline} for all of them; answers their
     * results in the order given. The first branch to fail fails the fan-out, and the others are cancelled.
     */
    public static <T> List<T> fanOut(Duration deadline, List<Callable<T>> branches) {
        Context.CancellableContext context = Context.current()
                .withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS, DEADLINES);
        List<Future<T>> running = new ArrayList<>();
        try {
            for (Callable<T> branch : branches) {
                running.add(BRANCHES.submit(context.wrap(branch)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> branch : running) {
                results.add(await(branch, context));
            }
            return results;
        } finally {
            context.cancel(null); // ends what is still running: its calls see the context cancelled
            running.forEach(branch -> branch.cancel(true));
        }
    }

    private static <T> T await(Future<T> branch, Context.CancellableContext context) {
        try {
            long left = context.getDeadline().timeRemaining(TimeUnit.NANOSECONDS);
            // the calls end themselves at the deadline; the margin lets their DEADLINE_EXCEEDED arrive first
            return branch.get(Math.max(0, left) + TimeUnit.MILLISECONDS.toNanos(200), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw new IllegalStateException("a branch of the fan-out failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new CapabilityCallException(Status.DEADLINE_EXCEEDED.withDescription(
                    "a branch of the fan-out did not finish by the deadline"), "", "", List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CapabilityCallException(Status.CANCELLED.withDescription("interrupted while waiting for "
                    + "the fan-out"), "", "", List.of());
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
