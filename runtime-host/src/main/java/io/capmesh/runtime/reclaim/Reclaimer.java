package io.capmesh.runtime.reclaim;

import io.capmesh.runtime.loader.ExtensionClassLoader;
import java.io.IOException;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Closes an extension's classloader and proves that the garbage collector reclaimed it.
 *
 * <p>After cleaning up what the extension left behind, it holds only a weak reference on a queue and nudges the
 * collector with {@code System.gc()} a bounded number of times. Run with G1 and
 * {@code -XX:+ExplicitGCInvokesConcurrent} so that each nudge is a concurrent cycle (which unloads classes)
 * rather than a stop-the-world full collection. A loader still reachable when the window closes is reported
 * as leaked, with the likely causes, by the time the window closes: collection is awaited for nine tenths of it
 * and the rest is left for the diagnosis. The window starts once the calls have drained; the reported time runs
 * from the start of the unload.
 */
public final class Reclaimer {

    private static final long NUDGE_INTERVAL_MILLIS = 20;
    /** One per JVM, as the collection it asks for is. */
    private static final ExecutorService NUDGER = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "capmesh-gc-nudge");
        thread.setDaemon(true);
        return thread;
    });
    private static final AtomicBoolean NUDGING = new AtomicBoolean();

    private final LeakInspector inspector;
    private final Duration window;

    public Reclaimer(LeakInspector inspector, Duration window) {
        this.inspector = inspector;
        this.window = window;
    }

    /**
     * Closes the loader and waits (at most the window) for it to be collected. The caller must hold no other
     * reference to the loader or to anything it loaded.
     *
     * @param startNanos when the unload began, for the reported time
     */
    public Reclamation reclaim(ExtensionClassLoader loader, long startNanos) {
        // the window covers cleaning up and diagnosing too, so that a leak is reported within it
        long collectedBy = System.nanoTime() + window.toNanos() / 10 * 9;
        String coordinates = loader.extension();
        List<String> cleaned = new ArrayList<>(inspector.cleanUp(loader));
        try {
            loader.close();
        } catch (IOException e) {
            cleaned.add("closing the jar failed: " + e.getMessage());
        }
        ReferenceQueue<ClassLoader> queue = new ReferenceQueue<>();
        WeakReference<ClassLoader> ref = new WeakReference<>(loader, queue);
        loader = null; // from here on only the weak reference may reach it
        if (awaitCollection(ref, queue, collectedBy)) {
            return new Reclamation(coordinates, Reclamation.State.COLLECTED, elapsedMillis(startNanos), List.of(),
                    cleaned);
        }
        List<String> causes = diagnose(ref);
        return new Reclamation(coordinates, ref.refersTo(null) ? Reclamation.State.COLLECTED : Reclamation.State.LEAKED,
                elapsedMillis(startNanos), ref.refersTo(null) ? List.of() : causes, cleaned);
    }

    private boolean awaitCollection(WeakReference<ClassLoader> ref, ReferenceQueue<ClassLoader> queue,
                                    long deadline) {
        try {
            while (System.nanoTime() < deadline) {
                nudge();
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (queue.remove(Math.max(1, Math.min(NUDGE_INTERVAL_MILLIS, left))) != null || ref.refersTo(null)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ref.refersTo(null);
    }

    /**
     * Asks for a collection cycle unless one asked for is still running. {@code System.gc()} blocks its caller
     * until the whole concurrent cycle is over, well after the cycle's remark has cleared the weak reference;
     * nudging from another thread lets the reclaiming thread see the reference cleared as soon as it is.
     */
    private static void nudge() {
        if (NUDGING.compareAndSet(false, true)) {
            NUDGER.execute(() -> {
                try {
                    System.gc();
                } finally {
                    NUDGING.set(false);
                }
            });
        }
    }

    private List<String> diagnose(WeakReference<ClassLoader> ref) {
        ClassLoader loader = ref.get();
        return loader instanceof ExtensionClassLoader extensionLoader ? inspector.diagnose(extensionLoader) : List.of();
    }

    private static long elapsedMillis(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
