package io.capmesh.extensions.misbehaving.systemexit;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;

/**
 * {@code exit} ends the whole JVM it runs in, which is why its manifest asks for process isolation: only the
 * child JVM should die, and the runtime should restart it. {@code ok} returns the payload.
 */
public final class SystemExitExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        return switch (invocation.method()) {
            case "exit" -> {
                System.exit(17);
                yield new byte[0];
            }
            case "ok" -> invocation.payload();
            default -> throw CapabilityException.notFound("test.system-exit has no method " + invocation.method());
        };
    }
}
