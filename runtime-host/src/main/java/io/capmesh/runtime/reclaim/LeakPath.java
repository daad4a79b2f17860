package io.capmesh.runtime.reclaim;

import java.util.List;

/**
 * The shortest strong reference path from a GC root to a leaked classloader, LeakCanary's "leak trace": each
 * step an object and the reference it holds the next one by.
 *
 * @param gcRoot what kind of root it starts at, e.g. {@code System class} or {@code Java local variable}
 * @param steps  from the root towards the loader; the last step's reference reaches the loader
 */
public record LeakPath(String gcRoot, List<Step> steps) {

    /**
     * @param object    e.g. {@code java.lang.Thread class}, {@code thread 'leaky-poller'}, {@code java.util.HashMap
     *                  instance}
     * @param reference how it holds the next: {@code static Thread.defaultUncaughtExceptionHandler},
     *                  {@code HashMap.table}, {@code [12]}, {@code local variable in Poller.run}
     */
    public record Step(String object, String reference) {
    }

    public LeakPath {
        steps = List.copyOf(steps);
    }

    /** One line per step, indented as a chain, for logs and terminals. */
    public String render() {
        StringBuilder out = new StringBuilder("GC root: ").append(gcRoot);
        for (Step step : steps) {
            out.append("\n  ").append(step.object()).append("\n    ↓ ").append(step.reference());
        }
        return out.append("\n  the extension's classloader").toString();
    }
}
