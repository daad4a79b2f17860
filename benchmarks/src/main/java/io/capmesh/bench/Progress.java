package io.capmesh.bench;

import java.io.PrintStream;
import java.time.Duration;

/**
 * The progress display: one line per step with its number, the time since the run began, and what it measured,
 * so that whoever launched the jar (a terminal, the CLI, CI) sees where a long run is.
 */
final class Progress {

    private final PrintStream out;
    private final int steps;
    private final long started = System.nanoTime();
    private int step;
    private long stepStarted;

    Progress(PrintStream out, int steps) {
        this.out = out;
        this.steps = steps;
    }

    void begin(String what) {
        step++;
        stepStarted = System.nanoTime();
        out.printf("[%2d/%d %s] %s ...%n", step, steps, clock(stepStarted - started), what);
        out.flush();
    }

    /** A figure worth seeing before the report is written. */
    void note(String line) {
        out.println("          " + line);
        out.flush();
    }

    void end(String summary) {
        out.printf("          done in %.1f s%s%n", (System.nanoTime() - stepStarted) / 1e9,
                summary.isEmpty() ? "" : ": " + summary);
        out.flush();
    }

    Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - started);
    }

    private static String clock(long nanos) {
        long seconds = nanos / 1_000_000_000L;
        return String.format("%d:%02d", seconds / 60, seconds % 60);
    }
}
