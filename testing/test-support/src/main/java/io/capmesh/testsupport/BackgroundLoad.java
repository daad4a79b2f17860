package io.capmesh.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls something from several threads, back to back, until closed, keeping every failure: the traffic a test
 * runs a swap or a kill under. Bounded by the test that closes it; callers target loopback only.
 */
public final class BackgroundLoad implements AutoCloseable {

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger calls = new AtomicInteger();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    private BackgroundLoad() {
    }

    public static BackgroundLoad start(int threads, Runnable call) {
        BackgroundLoad load = new BackgroundLoad();
        for (int i = 0; i < threads; i++) {
            Thread thread = new Thread(() -> {
                while (load.running.get()) {
                    try {
                        call.run();
                        load.calls.incrementAndGet();
                    } catch (RuntimeException | AssertionError e) {
                        load.failures.add(e);
                    }
                }
            }, "background-load-" + i);
            thread.start();
            load.threads.add(thread);
        }
        return load;
    }

    /** Calls that succeeded so far. */
    public int calls() {
        return calls.get();
    }

    public List<Throwable> failures() {
        return List.copyOf(failures);
    }

    /** Stops the threads after their current call and waits for them. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join();
        }
    }
}
