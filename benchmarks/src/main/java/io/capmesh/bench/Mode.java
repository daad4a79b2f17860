package io.capmesh.bench;

import java.time.Duration;
import java.util.List;

/**
 * How much of each measurement a run makes. {@code smoke} only proves the harness works (seconds, figures
 * meaningless), {@code quick} gives usable ratios in under five minutes, {@code full} tighter ones.
 *
 * @param jmhForks          JVMs per JMH benchmark (0: in this JVM)
 * @param jmhWarmup         JMH warm-up iterations, each {@code jmhIteration} long
 * @param jmhMeasure        JMH measured iterations
 * @param jmhIteration      length of one JMH iteration
 * @param loadWarmup        calls before each measured load run
 * @param loadDuration      each closed- and each open-loop run (paths compared in turns: each path's total)
 * @param turns             how many slices paths compared side by side take turns in
 * @param lifecycleRuns     load, swap and unload repetitions for small, medium and large extensions
 * @param swapConcurrency   concurrent calls during a swap
 * @param swapsPerLevel     swaps at each concurrency
 * @param reclaimRuns       repetitions of each reclamation scenario
 * @param reclaimWindow     how long an unload waits for collection before reporting a leak
 * @param loadedCounts      how many small extensions the memory figure loads, in steps
 * @param acquireRuns       warm broker acquires
 * @param coldAcquires      cold acquires (each loads a tier-2 package)
 * @param startRuns         runtime starts to SERVING, one after the other (the last stays up for the mesh)
 * @param composition       whether the three-tier composition runs (it starts three more services)
 * @param mesh              whether the service jars are started at all (a Spring Boot start takes seconds)
 * @param jdkRounds         rounds of the JDK comparison (each measures on every JDK, in turns)
 */
record Mode(String name, int jmhForks, int jmhWarmup, int jmhMeasure, Duration jmhIteration, int loadWarmup,
            Duration loadDuration, int turns, List<Integer> lifecycleRuns, List<Integer> swapConcurrency,
            int swapsPerLevel, int reclaimRuns, Duration reclaimWindow, List<Integer> loadedCounts, int acquireRuns,
            int coldAcquires, int startRuns, boolean composition, boolean mesh, int jdkRounds) {

    static final Mode SMOKE = new Mode("smoke", 0, 1, 1, Duration.ofMillis(100), 200, Duration.ofMillis(300), 2,
            List.of(3, 2, 2), List.of(10), 1, 1, Duration.ofMillis(500), List.of(0, 1, 10), 5, 1, 1, false, false, 1);
    static final Mode QUICK = new Mode("quick", 1, 2, 3, Duration.ofMillis(500), 2_000, Duration.ofSeconds(3), 6,
            List.of(40, 20, 10), List.of(10, 100, 1000), 3, 2, Duration.ofSeconds(2), List.of(0, 1, 10, 100), 200, 5,
            1, true, true, 1);
    static final Mode FULL = new Mode("full", 2, 5, 5, Duration.ofSeconds(1), 10_000, Duration.ofSeconds(15), 10,
            List.of(200, 100, 50), List.of(10, 100, 1000), 10, 10, Duration.ofSeconds(2), List.of(0, 1, 10, 100),
            2_000, 20, 5, true, true, 2);

    static Mode named(String name) {
        return switch (name) {
            case "smoke" -> SMOKE;
            case "quick" -> QUICK;
            case "full" -> FULL;
            default -> throw new IllegalArgumentException("--mode is smoke, quick or full, not " + name);
        };
    }

    String describe() {
        return String.format("%s: JMH %d fork(s), %d+%d iterations of %d ms; load runs of %d ms per path after up "
                        + "to %d warm-up calls, paths compared side by side taking %d turns; lifecycle %s runs (small, "
                        + "medium, large); swaps under %s concurrent calls; %d start(s) alone",
                name, jmhForks, jmhWarmup, jmhMeasure, jmhIteration.toMillis(), loadDuration.toMillis(), loadWarmup,
                turns, lifecycleRuns, swapConcurrency, startRuns);
    }
}
