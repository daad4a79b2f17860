package io.capmesh.extensions.misbehaving.commonpool;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import java.util.concurrent.ForkJoinPool;

/**
 * Runs a task on the JVM's common ForkJoinPool that takes a few seconds and ignores interrupts: the shared worker
 * holds this extension's code until the task ends.
 */
public final class CommonPoolExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("spawn")) {
            long millis = Long.parseLong(new String(invocation.payload()));
            ForkJoinPool.commonPool().execute(() -> busyFor(millis));
        }
        return invocation.payload();
    }

    private static void busyFor(long millis) {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException ignored) {
                // deliberately ignored: the task runs its course
            }
        }
    }
}
