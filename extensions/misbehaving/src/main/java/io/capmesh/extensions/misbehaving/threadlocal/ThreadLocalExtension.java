package io.capmesh.extensions.misbehaving.threadlocal;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;

/**
 * {@code remember} leaves an instance of one of this extension's classes in a thread-local of the calling
 * thread, a pooled host thread, and never removes it: that thread then keeps this classloader alive.
 */
public final class ThreadLocalExtension implements Extension {

    private static final ThreadLocal<Remembered> LAST = new ThreadLocal<>();

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("remember")) {
            LAST.set(new Remembered(invocation.payload()));
            return invocation.payload();
        }
        throw CapabilityException.notFound("test.thread-local has no method " + invocation.method());
    }

    /** Defined here, so its instance pins this extension's classloader. */
    private record Remembered(byte[] payload) {
    }
}
