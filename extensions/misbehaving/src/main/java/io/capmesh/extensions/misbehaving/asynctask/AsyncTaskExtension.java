package io.capmesh.extensions.misbehaving.asynctask;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import java.util.concurrent.CompletableFuture;

/**
 * Hands a task that runs until interrupted, or for the milliseconds the payload says, to
 * {@code CompletableFuture.runAsync} on each "spawn" call. On JDK 17 with a common pool of parallelism 1 (two
 * cores) the JDK starts a thread per task; otherwise a common-pool worker runs it.
 */
public final class AsyncTaskExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("spawn")) {
            long millis = Long.parseLong(new String(invocation.payload(), java.nio.charset.StandardCharsets.UTF_8));
            CompletableFuture.runAsync(() -> waitForInterrupt(millis));
        }
        return invocation.payload();
    }

    private static void waitForInterrupt(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException stopped) {
            // asked to stop: done
        }
    }
}
