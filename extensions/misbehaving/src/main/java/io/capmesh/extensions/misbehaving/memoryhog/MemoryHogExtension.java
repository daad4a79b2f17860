package io.capmesh.extensions.misbehaving.memoryhog;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hog} keeps allocating until the heap is exhausted: contained only by process isolation, where the
 * child JVM exits on the OutOfMemoryError and the runtime restarts it. {@code ok} returns the payload;
 * {@code pid} names the process answering.
 */
public final class MemoryHogExtension implements Extension {

    private final List<long[]> hoard = new ArrayList<>();

    @Override
    public byte[] invoke(Invocation invocation) {
        return switch (invocation.method()) {
            case "hog" -> {
                while (true) {
                    synchronized (hoard) {
                        hoard.add(new long[1 << 17]); // 1 MiB at a time
                    }
                }
            }
            case "ok" -> invocation.payload();
            case "pid" -> String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8);
            default -> throw CapabilityException.notFound(invocation.capability() + " has no method "
                    + invocation.method());
        };
    }
}
