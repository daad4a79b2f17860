package io.capmesh.runtime.reclaim;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The runtime's pool for every call into extension code (it is the gRPC server's executor). It can renew its
 * threads: after {@link #renew()}, each thread that existed before ends once its current task is done and a
 * fresh one takes its place. That is the safe way to drop thread-local values an extension left on pooled
 * threads, since a thread's thread-local map may only be changed by the thread itself.
 */
public final class RenewableExecutor extends ThreadPoolExecutor {

    private final AtomicInteger generation = new AtomicInteger();

    public RenewableExecutor(String namePrefix) {
        super(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>());
        AtomicInteger count = new AtomicInteger();
        setThreadFactory(task -> {
            Thread thread = new PooledThread(task, namePrefix + "-" + count.incrementAndGet(), generation.get());
            thread.setDaemon(true);
            thread.setUncaughtExceptionHandler((t, e) -> {
                if (!(e instanceof Renewed)) {
                    System.getLogger(RenewableExecutor.class.getName())
                            .log(System.Logger.Level.ERROR, "uncaught in " + t.getName(), e);
                }
            });
            return thread;
        });
    }

    /** True when the thread belongs to this pool. */
    public boolean owns(Thread thread) {
        return thread instanceof PooledThread pooled && pooled.owner == this;
    }

    /**
     * Replaces every thread that exists now (idle ones at once, busy ones after their current task) and waits,
     * up to the timeout, until the given threads have ended. Returns those still alive.
     */
    public synchronized List<Thread> renew(Collection<Thread> awaited, Duration timeout) {
        generation.incrementAndGet();
        long keepAlive = getKeepAliveTime(TimeUnit.NANOSECONDS);
        setKeepAliveTime(1, TimeUnit.NANOSECONDS); // interrupts idle threads, which then find no work and end
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (Thread thread : awaited) {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            setKeepAliveTime(keepAlive, TimeUnit.NANOSECONDS);
        }
        return awaited.stream().filter(Thread::isAlive).toList();
    }

    @Override
    protected void afterExecute(Runnable task, Throwable failure) {
        super.afterExecute(task, failure);
        if (Thread.currentThread() instanceof PooledThread pooled && pooled.generation < generation.get()) {
            throw new Renewed();
        }
    }

    private final class PooledThread extends Thread {
        final int generation;
        final RenewableExecutor owner = RenewableExecutor.this;

        PooledThread(Runnable task, String name, int generation) {
            super(task, name);
            this.generation = generation;
        }
    }

    /** Ends a pooled thread on purpose; the pool starts a new one when needed. */
    private static final class Renewed extends RuntimeException {
        Renewed() {
            super("thread renewed", null, false, false);
        }
    }
}
