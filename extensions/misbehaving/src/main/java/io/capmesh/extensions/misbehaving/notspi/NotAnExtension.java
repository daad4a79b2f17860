package io.capmesh.extensions.misbehaving.notspi;

import io.capmesh.extension.api.Invocation;

/**
 * Named as the entry class but does not implement {@code Extension}. It has the same {@code invoke} shape, so
 * only a type check (not a method lookup) rejects it.
 */
public final class NotAnExtension {

    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }
}
