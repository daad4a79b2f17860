package io.capmesh.extensions.misbehaving.resurrect;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;

/**
 * Keeps an object whose {@code finalize()} makes it the JVM's default uncaught-exception handler. Once unloaded,
 * the classloader is reachable only through that finalizable object, so a weak reference to the loader is cleared;
 * then the finalizer runs and makes the loader strongly reachable again, for good.
 */
public final class ResurrectExtension implements Extension {

    private static Phoenix kept;

    @Override
    public void start(ExtensionContext context) {
        kept = new Phoenix();
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    /** Rises from its own finalization. */
    static final class Phoenix implements Thread.UncaughtExceptionHandler {
        @Override
        @SuppressWarnings({"deprecation", "removal"})
        protected void finalize() {
            Thread.setDefaultUncaughtExceptionHandler(this);
        }

        @Override
        public void uncaughtException(Thread thread, Throwable failure) {
        }
    }
}
