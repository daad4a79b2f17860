package io.capmesh.runtime.reclaim;

import java.util.List;

/**
 * What became of an unloaded extension's classloader.
 *
 * @param coordinates {@code id@version} of the extension
 * @param state       collected, or leaked after the verification window
 * @param millis      from the start of the unload to the verdict
 * @param causes      what keeps it alive (empty when collected)
 * @param cleaned     what the runtime removed on the extension's behalf
 */
public record Reclamation(String coordinates, State state, long millis, List<String> causes, List<String> cleaned) {

    public enum State { COLLECTED, LEAKED }

    public Reclamation {
        causes = List.copyOf(causes);
        cleaned = List.copyOf(cleaned);
    }
}
