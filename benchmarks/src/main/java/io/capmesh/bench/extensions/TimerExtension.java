package io.capmesh.bench.extensions;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.Timer;
import java.util.TimerTask;

/** Timers scenario: schedules a repeating {@link Timer} task at start and never cancels it. */
public final class TimerExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        new Timer("bench-timer", true).schedule(new Tick(), 0, 20);
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    /** A task class of this extension, so the timer's queue refers to this classloader. */
    static final class Tick extends TimerTask {
        private long ticks;

        @Override
        public void run() {
            ticks++;
        }
    }
}
