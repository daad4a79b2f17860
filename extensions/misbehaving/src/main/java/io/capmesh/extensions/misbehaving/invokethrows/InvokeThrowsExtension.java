package io.capmesh.extensions.misbehaving.invokethrows;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;

/**
 * {@code boom} throws an unexpected exception (not a CapabilityException), to be reported as an internal error;
 * {@code ok} returns the payload, to show the extension still answers afterwards.
 */
public final class InvokeThrowsExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        return switch (invocation.method()) {
            case "boom" -> throw new IllegalStateException("boom from invoke-throws");
            case "ok" -> invocation.payload();
            default -> throw CapabilityException.notFound("test.invoke-throws has no method " + invocation.method());
        };
    }
}
