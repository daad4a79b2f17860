package io.capmesh.runtime.reclaim;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Watches the classloaders reported leaked, so that a verdict flips to collected when the holder lets go (a
 * thread that ends late, a cache entry that expires). One per JVM. While any loader is watched it asks for a
 * collection cycle now and then, 1 s after a new leak and then ever more rarely, at most once a minute: class
 * unloading needs a concurrent cycle, which a quiet runtime may otherwise never start.
 */
final class LateCollections {

    static final LateCollections JVM = new LateCollections();

    private static final long FIRST_NUDGE_MILLIS = 1_000;
    private static final long MAX_NUDGE_MILLIS = 60_000;

    private final ReferenceQueue<ClassLoader> queue = new ReferenceQueue<>();
    /** By reference identity (references do not override equals); holding them here keeps them enqueueable. */
    private final Map<Reference<?>, Consumer<Instant>> watched = new ConcurrentHashMap<>();
    /** How often the queue is looked at, so that a new leak's first nudge comes on time. */
    private static final long POLL_MILLIS = 250;

    private long nudgeMillis = FIRST_NUDGE_MILLIS;
    private volatile long nextNudgeNanos;
    private Thread watcher;

    private LateCollections() {
    }

    /** A phantom reference on the loader: cleared only once the loader is truly gone, past any finalizer. */
    PhantomReference<ClassLoader> track(ClassLoader loader) {
        return new PhantomReference<>(loader, queue);
    }

    /** Calls {@code then} with the time, on the watcher's thread, once the tracked loader is collected. */
    synchronized void whenCollected(PhantomReference<ClassLoader> reference, Consumer<Instant> then) {
        watched.put(reference, then);
        if (reference.refersTo(null) && watched.remove(reference) != null) {
            then.accept(Instant.now()); // collected, and taken off the queue, before it was watched
            return;
        }
        nudgeMillis = FIRST_NUDGE_MILLIS;
        nextNudgeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FIRST_NUDGE_MILLIS);
        if (watcher == null) {
            watcher = new Thread(this::watch, "capmesh-leak-watch");
            watcher.setDaemon(true);
            watcher.start();
        }
    }

    /** Loaders reported leaked and not collected yet. */
    int watching() {
        return watched.size();
    }

    private void watch() {
        for (;;) {
            try {
                Reference<?> collected = queue.remove(POLL_MILLIS);
                if (collected != null) {
                    Consumer<Instant> then = watched.remove(collected);
                    if (then != null) {
                        then.accept(Instant.now());
                    }
                } else if (!watched.isEmpty() && System.nanoTime() - nextNudgeNanos >= 0) {
                    Reclaimer.nudge();
                    synchronized (this) {
                        nudgeMillis = Math.min(nudgeMillis * 2, MAX_NUDGE_MILLIS);
                        nextNudgeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(nudgeMillis);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) { // a failing listener must not end the watch
                System.getLogger(LateCollections.class.getName()).log(System.Logger.Level.WARNING,
                        "telling of a late collection failed", e);
            }
        }
    }
}
