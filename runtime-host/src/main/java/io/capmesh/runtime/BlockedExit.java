package io.capmesh.runtime;

import java.time.Instant;
import java.util.List;

/**
 * An exit or halt an extension asked for and the runtime refused.
 *
 * @param extensionId the extension's id
 * @param version     the version whose code asked
 * @param call        {@code Runtime.exit(3)}, {@code Runtime.halt(1)}
 * @param thread      the thread that asked
 * @param frames      the extension's frames on that thread, innermost first
 * @param at          when
 */
public record BlockedExit(String extensionId, String version, String call, String thread, List<String> frames,
                          Instant at) {

    public String coordinates() {
        return extensionId + "@" + version;
    }
}
