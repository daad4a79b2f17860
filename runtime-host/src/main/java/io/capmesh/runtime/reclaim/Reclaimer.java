package io.capmesh.runtime.reclaim;

import io.capmesh.runtime.loader.ExtensionClassLoader;
import java.io.IOException;
import java.lang.ref.PhantomReference;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Closes an extension's classloader and proves that the garbage collector reclaimed it.
 *
 * <p>After cleaning up what the extension left behind, it holds only a phantom reference and nudges the
 * collector with {@code System.gc()} a bounded number of times. A phantom reference is cleared only when the
 * loader is truly gone: a weak one is cleared before finalization, so a loader reachable only from objects with a
 * {@code finalize()} method would pass for collected, and a finalizer can make it reachable again. Run with G1
 * and {@code -XX:+ExplicitGCInvokesConcurrent} so that each nudge is a concurrent cycle (which unloads classes)
 * rather than a stop-the-world full collection.
 *
 * <p>A loader still reachable when the window closes is reported as leaked, with the likely causes, by the time
 * the window closes: collection is awaited for nine tenths of it and the rest is left for the diagnosis. The
 * window starts once the calls have drained; the reported time runs from the start of the unload. A leaked
 * verdict goes on changing afterwards, through the updates callback: the reference path arrives when a heap dump
 * has been analysed ({@link LeakPaths}), and the verdict flips to collected if the holder lets go.
 */
public final class Reclaimer {

    private static final long NUDGE_INTERVAL_MILLIS = 20;
    /** How often the verdict's reference is looked at between nudges. */
    private static final long POLL_MILLIS = 2;
    /** One per JVM, as the collection it asks for is. */
    private static final ExecutorService NUDGER = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "capmesh-gc-nudge");
        thread.setDaemon(true);
        return thread;
    });
    private static final AtomicBoolean NUDGING = new AtomicBoolean();

    private final LeakInspector inspector;
    private final Duration window;
    private final LeakPaths leakPaths;

    public Reclaimer(LeakInspector inspector, Duration window, LeakPaths leakPaths) {
        this.inspector = inspector;
        this.window = window;
        this.leakPaths = leakPaths;
    }

    /**
     * Closes the loader and waits (at most the window) for it to be collected. The caller must hold no other
     * reference to the loader or to anything it loaded.
     *
     * @param startNanos when the unload began, for the reported time
     * @param updates    told of each later change to a LEAKED verdict (its path, a late collection), on another
     *                   thread; never called for a verdict that was COLLECTED at once
     */
    public Reclamation reclaim(ExtensionClassLoader loader, long startNanos, Consumer<Reclamation> updates) {
        // the window covers cleaning up and diagnosing too, so that a leak is reported within it
        long collectedBy = System.nanoTime() + window.toNanos() / 10 * 9;
        LoaderIdentity owner = LoaderIdentity.of(loader);
        List<String> cleaned = new ArrayList<>(inspector.cleanUp(loader));
        try {
            loader.close();
        } catch (IOException e) {
            cleaned.add("closing the jar failed: " + e.getMessage());
        }
        PhantomReference<ClassLoader> gone = LateCollections.JVM.track(loader);
        WeakReference<ClassLoader> weak = new WeakReference<>(loader);
        loader = null; // from here on only the references may reach it
        if (awaitCollection(gone, collectedBy)) {
            return collected(owner, startNanos, cleaned);
        }
        List<String> causes = new ArrayList<>();
        if (weak.refersTo(null)) {
            causes.add("it is reachable only through objects whose finalize() method has not run yet, or was made "
                    + "reachable again by one");
        }
        causes.addAll(inspector.diagnose(owner));
        if (gone.refersTo(null)) {
            return collected(owner, startNanos, cleaned);
        }
        if (causes.isEmpty()) {
            causes.add("no thread, timer, thread-local, shutdown hook or JDK registry the runtime inspects refers to "
                    + "it: a static field or cache outside the extension may hold one of its classes or objects, or "
                    + "the collection did not finish within the window"
                    + (leakPaths.enabled() ? "; the leak path names it" : "; " + leakPaths.note()));
        }
        Reclamation verdict = new Reclamation(owner.coordinates(), Reclamation.State.LEAKED, elapsedMillis(startNanos),
                causes, cleaned, owner.serial(), null, leakPaths.note(), null);
        // the news comes from two threads: each is applied and told under one lock, so it is told in order
        AtomicReference<Reclamation> latest = new AtomicReference<>(verdict);
        LateCollections.JVM.whenCollected(gone, at -> tell(latest, r -> r.collectedLater(at), updates));
        leakPaths.find(owner, (path, note) -> tell(latest, r -> r.withLeakPath(path, note), updates));
        return verdict;
    }

    private static void tell(AtomicReference<Reclamation> latest, java.util.function.UnaryOperator<Reclamation> news,
                             Consumer<Reclamation> updates) {
        synchronized (latest) {
            updates.accept(latest.updateAndGet(news));
        }
    }

    /** Classloaders of this JVM reported leaked and not collected since. */
    public static int leakedLoaders() {
        return LateCollections.JVM.watching();
    }

    private static Reclamation collected(LoaderIdentity owner, long startNanos, List<String> cleaned) {
        return new Reclamation(owner.coordinates(), Reclamation.State.COLLECTED, elapsedMillis(startNanos),
                List.of(), cleaned, owner.serial(), null, "", null);
    }

    private static boolean awaitCollection(PhantomReference<ClassLoader> gone, long deadline) {
        try {
            long nextNudge = System.nanoTime();
            while (System.nanoTime() < deadline) {
                if (System.nanoTime() - nextNudge >= 0) {
                    nudge();
                    nextNudge = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NUDGE_INTERVAL_MILLIS);
                }
                if (gone.refersTo(null)) {
                    return true;
                }
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return gone.refersTo(null);
    }

    /**
     * Asks for a collection cycle unless one asked for is still running. {@code System.gc()} blocks its caller
     * until the whole concurrent cycle is over, well after the cycle's remark has cleared the reference;
     * nudging from another thread lets the reclaiming thread see the reference cleared as soon as it is.
     */
    static void nudge() {
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

    private static long elapsedMillis(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
