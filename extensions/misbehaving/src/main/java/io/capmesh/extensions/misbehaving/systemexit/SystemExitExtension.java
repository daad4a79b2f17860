package io.capmesh.extensions.misbehaving.systemexit;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import java.nio.charset.StandardCharsets;

/**
 * {@code exit} ends the whole JVM it runs in, which is why only a manifest asking for process isolation gets it
 * loaded: then only the child JVM dies, and the runtime restarts it. {@code ok} returns the payload; {@code pid}
 * names the process answering.
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
            case "pid" -> String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8);
            default -> throw CapabilityException.notFound(invocation.capability() + " has no method "
                    + invocation.method());
        };
    }
}
