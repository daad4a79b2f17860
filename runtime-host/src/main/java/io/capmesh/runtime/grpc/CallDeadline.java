package io.capmesh.runtime.grpc;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides who answers a call: the thread running it, or the deadline when it runs out first. On overrun the
 * deadline answers at once (through {@code onExpire}) and interrupts the thread still in the extension; the
 * runtime goes on serving whether or not the extension honours the interrupt.
 */
final class CallDeadline {

    private static final int RUNNING = 0;
    private static final int FINISHED = 1;
    private static final int EXPIRING = 2;
    private static final int EXPIRED = 3;

    private final AtomicInteger state = new AtomicInteger(RUNNING);
    private final Thread worker = Thread.currentThread();
    private final ScheduledFuture<?> timer;

    /** Starts timing the call on the current thread. */
    CallDeadline(long budgetNanos, ScheduledExecutorService scheduler, Runnable onExpire) {
        this.timer = scheduler.schedule(() -> expire(onExpire), budgetNanos, TimeUnit.NANOSECONDS);
    }

    private void expire(Runnable onExpire) {
        if (state.compareAndSet(RUNNING, EXPIRING)) {
            onExpire.run();
            worker.interrupt();
            state.set(EXPIRED);
        }
    }

    /**
     * Called by the worker when the call ends. True when the worker answers; false when the deadline already
     * did, in which case the interrupt meant for the call is cleared so it cannot hit the thread's next task.
     */
    boolean finish() {
        if (state.compareAndSet(RUNNING, FINISHED)) {
            timer.cancel(false);
            return true;
        }
        while (state.get() != EXPIRED) {
            Thread.onSpinWait();
        }
        Thread.interrupted();
        return false;
    }
}
