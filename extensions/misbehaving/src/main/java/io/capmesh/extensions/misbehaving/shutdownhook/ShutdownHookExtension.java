package io.capmesh.extensions.misbehaving.shutdownhook;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;

/**
 * Adds a shutdown hook and never removes it: the JVM's hook registry holds the (unstarted) hook thread, whose
 * class is this extension's, until the JVM exits.
 */
public final class ShutdownHookExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        Runtime.getRuntime().addShutdownHook(new LeakyShutdownHook());
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("ok")) {
            return invocation.payload();
        }
        throw CapabilityException.notFound("test.shutdown-hook has no method " + invocation.method());
    }
}
