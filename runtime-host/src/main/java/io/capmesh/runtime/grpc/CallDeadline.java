package io.capmesh.runtime.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Answers a unary call exactly once: with its result, or with DEADLINE_EXCEEDED when the budget runs out
 * first. On overrun the caller gets its answer at once and the thread still in the extension is interrupted;
 * the runtime goes on serving whether or not the extension honours the interrupt.
 */
final class CallDeadline<T> {

    private static final int RUNNING = 0;
    private static final int ANSWERED = 1;
    private static final int TIMING_OUT = 2;
    private static final int TIMED_OUT = 3;

    private final AtomicInteger state = new AtomicInteger(RUNNING);
    private final StreamObserver<T> observer;
    private final Thread worker = Thread.currentThread();
    private final ScheduledFuture<?> timer;

    CallDeadline(StreamObserver<T> observer, long budgetNanos, ScheduledExecutorService scheduler, String what) {
        this.observer = observer;
        this.timer = scheduler.schedule(() -> expire(budgetNanos, what), budgetNanos, TimeUnit.NANOSECONDS);
    }

    private void expire(long budgetNanos, String what) {
        if (state.compareAndSet(RUNNING, TIMING_OUT)) {
            observer.onError(Status.DEADLINE_EXCEEDED.withDescription(what + " did not finish within "
                    + TimeUnit.NANOSECONDS.toMillis(budgetNanos) + " ms; it was interrupted").asRuntimeException());
            worker.interrupt();
            state.set(TIMED_OUT);
        }
    }

    void succeed(T response) {
        if (answer()) {
            observer.onNext(response);
            observer.onCompleted();
        }
    }

    void fail(Status status) {
        if (answer()) {
            observer.onError(status.asRuntimeException());
        }
    }

    /** True when this thread answers; false when the deadline already did (then clear its interrupt). */
    private boolean answer() {
        if (state.compareAndSet(RUNNING, ANSWERED)) {
            timer.cancel(false);
            return true;
        }
        while (state.get() != TIMED_OUT) {
            Thread.onSpinWait();
        }
        Thread.interrupted(); // the interrupt was meant for the call that just ended, not for the next task
        return false;
    }
}
