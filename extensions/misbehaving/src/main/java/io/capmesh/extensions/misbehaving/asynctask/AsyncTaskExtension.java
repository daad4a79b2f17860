package io.capmesh.extensions.misbehaving.asynctask;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import java.util.concurrent.CompletableFuture;

/**
 * Hands a task that runs until interrupted to {@code CompletableFuture.runAsync} on each "spawn" call. With a
 * common pool of parallelism 1 (two cores), the JDK starts a thread per task; otherwise a common-pool worker runs it.
 */
public final class AsyncTaskExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("spawn")) {
            CompletableFuture.runAsync(AsyncTaskExtension::waitForInterrupt);
        }
        return invocation.payload();
    }

    private static void waitForInterrupt() {
        try {
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException stopped) {
            // asked to stop: done
        }
    }
}
