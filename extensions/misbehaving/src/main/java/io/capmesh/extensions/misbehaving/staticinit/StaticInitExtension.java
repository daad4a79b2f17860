package io.capmesh.extensions.misbehaving.staticinit;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;

/** Fails while its class initializes, so loading it fails with an ExceptionInInitializerError. */
public final class StaticInitExtension implements Extension {

    static {
        refuse();
    }

    private static void refuse() {
        throw new IllegalStateException("static initializer refuses to run");
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("ok")) {
            return invocation.payload();
        }
        throw CapabilityException.notFound("test.static-init has no method " + invocation.method());
    }
}
