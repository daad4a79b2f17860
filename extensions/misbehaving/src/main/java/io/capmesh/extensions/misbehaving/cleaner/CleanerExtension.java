package io.capmesh.extensions.misbehaving.cleaner;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.lang.ref.Cleaner;

/**
 * Creates its own {@code Cleaner} and registers a cleaning action for an object it keeps: the cleaner's thread
 * holds the action, whose class is this extension's, and the action's class holds the cleaner.
 */
public final class CleanerExtension implements Extension {

    private static final Cleaner CLEANER = Cleaner.create();
    private static Object resource;

    @Override
    public void start(ExtensionContext context) {
        resource = new Object();
        CLEANER.register(resource, new Release());
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    private static final class Release implements Runnable {
        @Override
        public void run() {
        }
    }
}
