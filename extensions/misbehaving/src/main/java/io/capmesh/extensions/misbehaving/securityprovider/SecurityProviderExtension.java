package io.capmesh.extensions.misbehaving.securityprovider;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.security.Provider;
import java.security.Security;

/** Adds a security provider of its own to {@code java.security.Security}, as crypto libraries do. */
public final class SecurityProviderExtension implements Extension {

    @Override
    public void start(ExtensionContext context) {
        Security.addProvider(new LeakyProvider());
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    private static final class LeakyProvider extends Provider {
        LeakyProvider() {
            super("CapmeshTestLeaky", "1.0", "a provider an extension added and never removed");
        }
    }
}
