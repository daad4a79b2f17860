package io.capmesh.extensions.misbehaving.threadtimer;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.Timer;
import java.util.TimerTask;

/**
 * Starts a thread ("leaky-poller") and a timer ("leaky-timer") and never stops them: {@code close} is left
 * as the SPI's no-op, and the thread ignores interrupts. Both keep this extension's classloader alive.
 */
public final class ThreadTimerExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        Thread poller = new Thread(ThreadTimerExtension::pollForever, "leaky-poller");
        poller.setDaemon(true); // daemon only so a test JVM can still exit; the leak is the same
        poller.start();

        Timer timer = new Timer("leaky-timer", true);
        timer.schedule(new Tick(), 0, 50);
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("ok")) {
            return invocation.payload();
        }
        throw CapabilityException.notFound("test.thread-timer has no method " + invocation.method());
    }

    private static void pollForever() {
        while (true) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ignored) {
                // Deliberately ignored: an interrupt does not stop this thread.
            }
        }
    }

    /** A task class of this extension, so the timer's queue references this classloader. */
    private static final class Tick extends TimerTask {
        @Override
        public void run() {
        }
    }
}
