package io.capmesh.extensions.misbehaving.systemproperty;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;

/**
 * Puts an object of its own into the system properties: a static map of the JDK that no cleanup knows about, so
 * only the reference path from a heap dump can name what holds the loader.
 */
public final class SystemPropertyExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        System.getProperties().put("capmesh.test.system-property", new Marker());
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    private static final class Marker {
    }
}
