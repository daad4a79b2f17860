package io.capmesh.extensions.misbehaving.scheduledexecutor;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Starts a scheduled executor with a periodic task and never shuts it down: the executor's worker thread (the
 * JDK's own class, running the JDK's worker) holds the task, whose class is this extension's.
 */
public final class ScheduledExecutorExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        ScheduledExecutorService ticker = Executors.newScheduledThreadPool(1);
        ticker.scheduleAtFixedRate(new Tick(), 0, 50, TimeUnit.MILLISECONDS);
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    private static final class Tick implements Runnable {
        @Override
        public void run() {
        }
    }
}
