package io.capmesh.runtime.isolation;

import io.capmesh.runtime.Problem;
import io.capmesh.runtime.RuntimeListener;
import io.grpc.Status;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps one isolated extension served by a child JVM: starts it, watches it, and when it ends unasked reports the
 * exit and starts another after a backoff that doubles with each exit in a row (up to a bound) and starts afresh
 * once a child has stayed up. While no child serves, calls are refused with UNAVAILABLE, which callers retry.
 */
public final class ChildSupervisor {

    private static final System.Logger LOG = System.getLogger(ChildSupervisor.class.getName());
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    /** How long a failed call waits for a dying child to be gone, to say what happened to it. */
    private static final Duration EXIT_WAIT = Duration.ofSeconds(2);

    private final String coordinates;
    private final List<String> command;
    private final ChildProtocol.Config config;
    private final IsolationSettings settings;
    private final ScheduledExecutorService restarts;
    private final RuntimeListener events;
    private final Object lock = new Object();
    private volatile Child current; // null while restarting or stopped
    private Child last;
    private boolean stopped;
    private int exitsInARow;
    private int restartCount;
    private ChildExit lastExit;
    private ScheduledFuture<?> pendingRestart;

    ChildSupervisor(String coordinates, List<String> command, ChildProtocol.Config config, IsolationSettings settings,
                    ScheduledExecutorService restarts, RuntimeListener events) {
        this.coordinates = coordinates;
        this.command = List.copyOf(command);
        this.config = config;
        this.settings = settings;
        this.restarts = restarts;
        this.events = events;
    }

    /** Starts the first child and returns it once it serves; fails with the child's own load error. */
    Child start() {
        Child child = Child.start(coordinates, command, config, settings.startTimeout());
        synchronized (lock) {
            adopt(child);
        }
        return child;
    }

    private void adopt(Child child) {
        current = child;
        last = child;
        child.process().onExit().thenRun(() -> exited(child));
    }

    private void exited(Child child) {
        ChildExit exit;
        synchronized (lock) {
            if (stopped || current != child) {
                return;
            }
            current = null;
        }
        String cause = child.describeExit(settings.maxHeap());
        Duration uptime = Duration.between(child.startedAt(), Instant.now());
        synchronized (lock) {
            exitsInARow = uptime.compareTo(settings.stableAfter()) >= 0 ? 1 : exitsInARow + 1;
            exit = new ChildExit(coordinates, child.pid(), child.process().exitValue(), cause, uptime,
                    settings.restartDelay(exitsInARow), Instant.now());
            lastExit = exit;
        }
        child.stop(Duration.ZERO);
        LOG.log(Level.WARNING, exit.describe());
        events.childExited(exit);
        scheduleRestart(exit.restartIn());
    }

    private void scheduleRestart(Duration delay) {
        synchronized (lock) {
            if (!stopped) {
                pendingRestart = restarts.schedule(this::restart, delay.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    private void restart() {
        synchronized (lock) {
            if (stopped) {
                return;
            }
        }
        Child child;
        try {
            child = Child.start(coordinates, command, config, settings.startTimeout());
        } catch (Problem.ProblemException e) {
            ChildExit failed;
            synchronized (lock) {
                exitsInARow++;
                failed = new ChildExit(coordinates, 0, -1, "could not be restarted (" + e.getMessage() + ")",
                        Duration.ZERO, settings.restartDelay(exitsInARow), Instant.now());
                lastExit = failed;
            }
            LOG.log(Level.WARNING, failed.describe());
            events.childExited(failed);
            scheduleRestart(failed.restartIn());
            return;
        }
        int restart;
        synchronized (lock) {
            if (stopped) {
                restart = -1;
            } else {
                restart = ++restartCount;
                adopt(child);
            }
        }
        if (restart < 0) {
            child.stop(STOP_GRACE);
            return;
        }
        LOG.log(Level.INFO, coordinates + ": a new child JVM (pid " + child.pid() + ") serves it (restart "
                + restart + ")");
        events.childRestarted(coordinates, child.pid(), restart);
    }

    /** The child serving now; UNAVAILABLE (retryable) while there is none. */
    Child serving() {
        Child child = current;
        if (child != null && child.process().isAlive()) {
            return child;
        }
        if (child != null) {
            exited(child); // seen dead before its watcher ran: report it now, once
        }
        synchronized (lock) {
            if (stopped) {
                throw new Problem(Status.Code.UNAVAILABLE, coordinates + " is being stopped; its child JVM no "
                        + "longer takes calls").toException();
            }
            if (current != null && current.process().isAlive()) {
                return current;
            }
            String why = lastExit == null ? coordinates + " has no child JVM serving yet" : lastExit.describe();
            throw new Problem(Status.Code.UNAVAILABLE, why + "; retry the call").toException();
        }
    }

    /**
     * The answer for a call to {@code child} that ended with {@code status}: the child's own answer when it gave
     * one (its answers carry {@link ChildProtocol#ANSWERED}), or this side's deadline or cancellation; otherwise the call lost the child, and the answer is
     * UNAVAILABLE saying what became of it.
     *
     * @param what the call, e.g. {@code test.echo/echo}, for the message
     */
    Problem explain(Child child, Status status, io.grpc.Metadata trailers, String what) {
        boolean local = status.getCode() == Status.Code.DEADLINE_EXCEEDED || status.getCode() == Status.Code.CANCELLED;
        if (local || trailers != null && trailers.containsKey(ChildProtocol.ANSWERED)) {
            String message = status.getDescription() == null ? status.getCode().name() : status.getDescription();
            return new Problem(status.getCode() == Status.Code.UNKNOWN ? Status.Code.INTERNAL : status.getCode(),
                    message);
        }
        if (child.awaitExit(EXIT_WAIT)) {
            return new Problem(Status.Code.UNAVAILABLE, coordinates + ": " + what + " was cut off because its child "
                    + "JVM (pid " + child.pid() + ") " + child.describeExit(settings.maxHeap())
                    + "; the runtime restarts it, retry the call");
        }
        return new Problem(Status.Code.UNAVAILABLE, coordinates + ": " + what + " lost its connection to the "
                + "child JVM (pid " + child.pid() + "): " + status.getCode() + " " + status.getDescription());
    }

    /** Stops the child for good (unload, swap, shutdown): no restart follows. */
    void stop() {
        Child child;
        synchronized (lock) {
            stopped = true;
            child = current;
            current = null;
            if (pendingRestart != null) {
                pendingRestart.cancel(false);
            }
        }
        if (child != null) {
            long started = System.nanoTime();
            child.stop(STOP_GRACE);
            LOG.log(Level.INFO, coordinates + ": stopped its child JVM (pid " + child.pid() + ", "
                    + child.describeExit("") + ") in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        }
    }

    public ChildStatus status() {
        synchronized (lock) {
            Child serving = current;
            ChildStatus.State state = stopped ? ChildStatus.State.STOPPED
                    : serving != null ? ChildStatus.State.SERVING : ChildStatus.State.RESTARTING;
            long pid = serving != null ? serving.pid() : last == null ? 0 : last.pid();
            return new ChildStatus(state, pid, restartCount, lastExit, settings.maxHeap());
        }
    }
}
