package io.capmesh.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Heap and metaspace of a runtime host with 0, 1, 10, ... small extensions loaded, measured in a JVM of its own
 * (started by {@link Memory}) where {@code System.gc()} is a full collection, so "used" is what is live.
 *
 * <p>Prints one line per step: {@code loaded heapBytes metaspaceBytes}.
 */
public final class MemoryProbe {

    private MemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        List<Integer> counts = new ArrayList<>();
        for (String arg : args) {
            counts.add(Integer.parseInt(arg));
        }
        try (InProcessRuntime runtime = new InProcessRuntime()) {
            List<Path> jars = new ArrayList<>();
            int max = counts.stream().mapToInt(Integer::intValue).max().orElse(0);
            for (int i = 0; i < max; i++) {
                jars.add(runtime.jars().echo("bench-echo-" + i, "1.0.0", "bench.echo-" + i, 0));
            }
            // one call on every path the loads take, so the host's own classes are loaded before the first step
            runtime.deploy(runtime.jars().echo("bench-warm", "1.0.0", "bench.warm", 0));
            runtime.host().runtime().invoke("bench.warm", "echo", new byte[1], java.util.Map.of());
            runtime.host().runtime().unload("bench-warm", "", java.time.Duration.ZERO);
            int loaded = 0;
            for (int count : counts) {
                for (; loaded < count; loaded++) {
                    runtime.deploy(jars.get(loaded));
                    runtime.host().runtime().invoke("bench.echo-" + loaded, "echo", new byte[1], java.util.Map.of());
                }
                settle();
                System.out.println(loaded + " " + heapUsed() + " " + metaspaceUsed());
            }
        }
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    private static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long metaspaceUsed() {
        return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getName().equals("Metaspace"))
                .mapToLong(p -> p.getUsage().getUsed()).sum();
    }
}
