package io.capmesh.runtime.isolation;

import io.capmesh.runtime.Problem;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How the child JVMs of extensions that ask for process isolation are run.
 *
 * @param maxHeap           the child's {@code -Xmx} (e.g. {@code 256m}); an extension's own setting
 *                          {@value #MAX_HEAP} overrides it
 * @param jvmOptions        more JVM options for every child
 * @param firstRestartDelay the wait before restarting a child that ended; doubled on each exit in a row
 * @param maxRestartDelay   the longest wait between restarts
 * @param stableAfter       a child that served this long before it ended starts the backoff afresh
 * @param startTimeout      how long a child may take to load its extension and serve
 */
public record IsolationSettings(String maxHeap, List<String> jvmOptions, Duration firstRestartDelay,
                                Duration maxRestartDelay, Duration stableAfter, Duration startTimeout) {

    /** The per-extension setting that overrides {@link #maxHeap}. */
    public static final String MAX_HEAP = "isolation.max-heap";

    public static final IsolationSettings DEFAULT = new IsolationSettings("256m", List.of(),
            Duration.ofMillis(250), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(60));

    private static final Pattern HEAP = Pattern.compile("[1-9][0-9]*[kKmMgG]?");

    public IsolationSettings {
        jvmOptions = List.copyOf(jvmOptions);
    }

    /** These settings with the extension's own overrides applied. */
    public IsolationSettings forExtension(String coordinates, Map<String, String> extensionSettings) {
        String heap = extensionSettings.getOrDefault(MAX_HEAP, maxHeap);
        if (!HEAP.matcher(heap).matches()) {
            throw Problem.invalid(coordinates + ": " + MAX_HEAP + " is '" + heap + "'; give a JVM heap size such as "
                    + "256m or 1g").toException();
        }
        return new IsolationSettings(heap, jvmOptions, firstRestartDelay, maxRestartDelay, stableAfter, startTimeout);
    }

    /** The wait before restart number {@code exitsInARow} (1 for the first exit after a stable run). */
    public Duration restartDelay(int exitsInARow) {
        int doublings = Math.min(Math.max(exitsInARow - 1, 0), 30);
        Duration delay = firstRestartDelay.multipliedBy(1L << doublings);
        return delay.compareTo(maxRestartDelay) > 0 ? maxRestartDelay : delay;
    }
}
