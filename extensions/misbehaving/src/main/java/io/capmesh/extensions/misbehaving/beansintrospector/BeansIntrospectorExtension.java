package io.capmesh.extensions.misbehaving.beansintrospector;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.beans.Introspector;

/** Introspects a bean class of its own, which {@code java.beans.Introspector} caches, as binding libraries do. */
public final class BeansIntrospectorExtension implements Extension {

    private int properties;

    @Override
    public void start(ExtensionContext context) throws Exception {
        properties = Introspector.getBeanInfo(Settings.class).getPropertyDescriptors().length;
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return Integer.toString(properties).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A bean with one property. */
    public static final class Settings {
        private String name;

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }
    }
}
