package io.capmesh.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting, bounded, for something another process does in its own time (a registration, a heartbeat). */
public final class Await {

    private Await() {
    }

    /** Polls {@code condition} every 100 ms until it holds; fails naming {@code what} after {@code timeout}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("waited " + timeout + " for " + what);
            }
            Thread.sleep(100);
        }
    }
}
