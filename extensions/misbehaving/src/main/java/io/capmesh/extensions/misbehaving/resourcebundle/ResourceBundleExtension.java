package io.capmesh.extensions.misbehaving.resourcebundle;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.ResourceBundle;

/** Loads a resource bundle of its own, which the JDK caches (softly) per classloader. */
public final class ResourceBundleExtension implements Extension {

    private String greeting;

    @Override
    public void start(ExtensionContext context) {
        greeting = ResourceBundle.getBundle(Messages.class.getName()).getString("greeting");
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return greeting.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
