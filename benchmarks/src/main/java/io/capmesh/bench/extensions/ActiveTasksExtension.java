package io.capmesh.bench.extensions;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Active tasks scenario: a pool of its own with a periodic task and a long-running task (which stops when
 * interrupted), left running at close.
 */
public final class ActiveTasksExtension implements Extension {

    private ScheduledExecutorService scheduled;
    private ExecutorService workers;

    @Override
    public void start(ExtensionContext context) {
        scheduled = Executors.newSingleThreadScheduledExecutor();
        scheduled.scheduleAtFixedRate(ActiveTasksExtension::work, 0, 10, TimeUnit.MILLISECONDS);
        workers = Executors.newFixedThreadPool(2);
        workers.submit(ActiveTasksExtension::runUntilInterrupted);
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        workers.submit(ActiveTasksExtension::work);
        return invocation.payload();
    }

    private static void work() {
        long sum = 0;
        for (int i = 0; i < 1_000; i++) {
            sum += i;
        }
        if (sum < 0) {
            throw new IllegalStateException();
        }
    }

    private static void runUntilInterrupted() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(10);
                work();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
