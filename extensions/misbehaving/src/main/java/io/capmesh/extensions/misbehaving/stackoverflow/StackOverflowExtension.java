package io.capmesh.extensions.misbehaving.stackoverflow;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import java.nio.charset.StandardCharsets;

/**
 * {@code recurse} recurses without end until the call's thread overflows its stack. {@code ok} returns the
 * payload; {@code pid} names the process answering.
 */
public final class StackOverflowExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        return switch (invocation.method()) {
            case "recurse" -> String.valueOf(depth(0)).getBytes(StandardCharsets.UTF_8);
            case "ok" -> invocation.payload();
            case "pid" -> String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8);
            default -> throw CapabilityException.notFound(invocation.capability() + " has no method "
                    + invocation.method());
        };
    }

    private static long depth(long n) {
        return depth(n + 1) + 1;
    }
}
