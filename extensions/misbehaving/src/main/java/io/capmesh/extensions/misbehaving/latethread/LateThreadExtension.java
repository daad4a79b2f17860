package io.capmesh.extensions.misbehaving.latethread;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.Map;

/**
 * Starts a thread ("late-finisher") that ignores interrupts and ends on its own some seconds later (the
 * extension's setting "millis", 4000 by default): the loader leaks at unload and is collected afterwards.
 */
public final class LateThreadExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        Map<String, String> settings = context.settings();
        long millis = Long.parseLong(settings.getOrDefault("millis", "4000"));
        Thread finisher = new Thread(() -> busyFor(millis), "late-finisher");
        finisher.setDaemon(true);
        finisher.start();
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    private static void busyFor(long millis) {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException ignored) {
                // deliberately ignored: the thread runs its course
            }
        }
    }
}
