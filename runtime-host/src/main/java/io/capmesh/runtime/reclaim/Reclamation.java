package io.capmesh.runtime.reclaim;

import java.time.Instant;
import java.util.List;

/**
 * What became of an unloaded extension's classloader. A LEAKED verdict can change later: the path that holds the
 * loader arrives once a heap dump is analysed, and a loader whose holder let go is collected after all.
 *
 * @param coordinates  {@code id@version} of the extension
 * @param state        collected, or leaked after the verification window
 * @param millis       from the start of the unload to the verdict
 * @param causes       what keeps it alive (empty when collected at once; kept when collected later)
 * @param cleaned      what the runtime removed on its behalf
 * @param loaderSerial the classloader's serial, to match later news to this verdict; 0 when there was none
 * @param leakPath     the shortest strong reference path from a GC root to the loader, once analysed; else null
 * @param leakPathNote where the path stands when there is none: being analysed, turned off, skipped and why
 * @param collectedAt  when a loader reported leaked was collected after all; else null
 */
public record Reclamation(String coordinates, State state, long millis, List<String> causes, List<String> cleaned,
                          long loaderSerial, LeakPath leakPath, String leakPathNote, Instant collectedAt) {

    public enum State { COLLECTED, LEAKED }

    public Reclamation {
        causes = List.copyOf(causes);
        cleaned = List.copyOf(cleaned);
        leakPathNote = leakPathNote == null ? "" : leakPathNote;
    }

    /** A verdict reached at once, with nothing to add later. */
    public Reclamation(String coordinates, State state, long millis, List<String> causes, List<String> cleaned) {
        this(coordinates, state, millis, causes, cleaned, 0, null, "", null);
    }

    /** A leak whose path is still being looked for in a heap dump. */
    public boolean awaitsLeakPath() {
        return state == State.LEAKED && leakPath == null && leakPathNote.startsWith(LeakPaths.ANALYSING);
    }

    public Reclamation withCauses(List<String> value) {
        return new Reclamation(coordinates, state, millis, value, cleaned, loaderSerial, leakPath, leakPathNote,
                collectedAt);
    }

    /** The loader was collected after the verdict said LEAKED; the causes stay, as what held it until then. */
    public Reclamation collectedLater(Instant at) {
        return new Reclamation(coordinates, State.COLLECTED, millis, causes, cleaned, loaderSerial, leakPath,
                leakPath == null ? "" : leakPathNote, at);
    }

    /** The analysis of the heap ended: a path, or (with a null path) why there is none. */
    public Reclamation withLeakPath(LeakPath path, String note) {
        return new Reclamation(coordinates, state, millis, causes, cleaned, loaderSerial, path, note, collectedAt);
    }
}
