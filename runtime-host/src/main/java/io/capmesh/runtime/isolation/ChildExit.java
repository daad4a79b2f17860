package io.capmesh.runtime.isolation;

import java.time.Duration;
import java.time.Instant;

/**
 * A child JVM that ended without being asked to, and what the runtime does about it.
 *
 * @param coordinates {@code id@version} of the extension it hosted
 * @param pid         the child's process id
 * @param exitCode    its exit code (128 + n when killed by signal n)
 * @param cause       what ended it, in words: "exited with code 17", "ran out of memory (-Xmx256m) ..."
 * @param uptime      how long it had served
 * @param restartIn   the wait before the next child starts
 * @param at          when the runtime saw it end
 */
public record ChildExit(String coordinates, long pid, int exitCode, String cause, Duration uptime,
                        Duration restartIn, Instant at) {

    /** One sentence for logs and call errors. */
    public String describe() {
        return "the child JVM of " + coordinates + " (pid " + pid + ") " + cause + " after " + uptime.toMillis()
                + " ms; restarting it in " + restartIn.toMillis() + " ms";
    }
}
