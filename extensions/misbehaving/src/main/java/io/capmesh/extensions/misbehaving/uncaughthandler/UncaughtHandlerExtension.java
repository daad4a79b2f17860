package io.capmesh.extensions.misbehaving.uncaughthandler;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;

/** Makes an object of its own the JVM's default uncaught-exception handler, as error reporters do. */
public final class UncaughtHandlerExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        Thread.setDefaultUncaughtExceptionHandler(new Reporter());
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    private static final class Reporter implements Thread.UncaughtExceptionHandler {
        @Override
        public void uncaughtException(Thread thread, Throwable failure) {
        }
    }
}
