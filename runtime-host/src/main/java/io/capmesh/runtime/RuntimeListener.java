package io.capmesh.runtime;

import io.capmesh.runtime.isolation.ChildExit;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.reclaim.Reclamation;
import java.nio.file.Path;
import java.util.List;

/**
 * Told about each change to what a runtime serves, right after it happened (metrics, the broker's catalog).
 * Called on the thread that made the change; keep it quick and never call back into the runtime.
 */
public interface RuntimeListener {

    /** A version now serves: deployed, restored, or swapped in for {@code replaced} (null otherwise). */
    default void published(LoadedExtension current, LoadedExtension replaced) {
    }

    /** A version stopped taking new calls: unloaded, or replaced by a swap. */
    default void unpublished(LoadedExtension previous) {
    }

    /** What became of an unpublished version's classloader. */
    default void reclaimed(Reclamation reclamation) {
    }

    /**
     * A LEAKED verdict changed afterwards: the reference path holding the loader was found (or why not), or the
     * loader was collected after all ({@link Reclamation#collectedAt()}); compare {@code before} and {@code after}
     * for what changed. Called on a background thread.
     */
    default void reclamationChanged(Reclamation before, Reclamation after) {
    }

    /** A stored extension was restored quarantined (kept, not loaded): a crash loop, or safe mode. */
    default void quarantined(String coordinates, String reason) {
    }

    /** An extension's code asked to end the JVM (exit or halt) and was refused. Called on the thread that asked. */
    default void exitBlocked(BlockedExit exit) {
    }

    /** The child JVM of an extension with process isolation ended unasked; another starts after a backoff. */
    default void childExited(ChildExit exit) {
    }

    /** A new child JVM serves an extension with process isolation again, after its {@code restarts}th restart. */
    default void childRestarted(String coordinates, long pid, int restarts) {
    }

    /** The scheduled sweep removed these package files, unused for long (see {@code PackageSweep}). */
    default void swept(List<Path> files) {
    }
}
