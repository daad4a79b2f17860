package io.capmesh.runtime.spring;

import io.capmesh.runtime.RuntimeListener;
import io.capmesh.runtime.ExitContainment;
import io.capmesh.runtime.isolation.ChildExit;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.reclaim.Reclaimer;
import io.capmesh.runtime.reclaim.Reclamation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runtime's meters: calls and failures per loaded extension version, load and reclaim times, leaks (those
 * still held, those collected later, and leak path analyses), and the exits and restarts of isolated extensions'
 * child JVMs.
 * Per-version meters are removed when the version is unpublished, and they read the counts through a weak
 * reference, so the registry never keeps an unloaded extension (or its classloader) alive.
 */
final class RuntimeMetrics implements RuntimeListener {

    private final MeterRegistry registry;
    private final Map<LoadedExtension, List<Meter>> perVersion = new ConcurrentHashMap<>();

    RuntimeMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("capmesh.extension.leaked.loaders", Reclaimer::leakedLoaders)
                .description("classloaders of unloaded versions reported leaked and not collected since")
                .register(registry);
        Gauge.builder("capmesh.runtime.exit.containment", () -> ExitContainment.active() ? 1 : 0)
                .description("1 when the JVM runs the exit guard agent, so no extension can end it by exit or halt")
                .register(registry);
    }

    @Override
    public void published(LoadedExtension current, LoadedExtension replaced) {
        Tags tags = tags(current);
        perVersion.put(current, List.of(
                FunctionCounter.builder("capmesh.extension.calls", current, LoadedExtension::invocations)
                        .description("calls answered by this extension version").tags(tags).register(registry),
                FunctionCounter.builder("capmesh.extension.failures", current, LoadedExtension::failures)
                        .description("calls this extension version failed").tags(tags).register(registry)));
        Timer.builder("capmesh.extension.load").description("read, load, start and warm up a package")
                .tags(tags).publishPercentileHistogram().register(registry)
                .record(Duration.ofNanos(current.loadMicros() * 1_000));
    }

    @Override
    public void unpublished(LoadedExtension previous) {
        List<Meter> meters = perVersion.remove(previous);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }

    @Override
    public void reclaimed(Reclamation reclamation) {
        Tags tags = Tags.of("state", reclamation.state().name().toLowerCase(java.util.Locale.ROOT));
        Timer.builder("capmesh.extension.reclaim").description("unload start to the collection verdict")
                .tags(tags).publishPercentileHistogram().register(registry)
                .record(Duration.ofMillis(reclamation.millis()));
        if (reclamation.state() == Reclamation.State.LEAKED) {
            Counter.builder("capmesh.extension.leaks").description("unloaded versions whose classloader stayed alive")
                    .register(registry).increment();
        }
    }

    @Override
    public void reclamationChanged(Reclamation before, Reclamation after) {
        if (before.collectedAt() == null && after.collectedAt() != null) {
            Counter.builder("capmesh.extension.leaks.collected.later")
                    .description("leaked classloaders collected after all, once what held them let go")
                    .register(registry).increment();
        }
        if (before.awaitsLeakPath() && !after.awaitsLeakPath()) {
            Counter.builder("capmesh.extension.leak.paths")
                    .description("heap dump analyses for leaked classloaders, by whether they found the path")
                    .tags("result", after.leakPath() != null ? "found" : "none")
                    .register(registry).increment();
        }
    }

    @Override
    public void exitBlocked(io.capmesh.runtime.BlockedExit exit) {
        Counter.builder("capmesh.extension.exits.blocked")
                .description("exits and halts extension code asked for and the runtime refused")
                .tags("extension", exit.extensionId(), "version", exit.version())
                .register(registry).increment();
    }

    @Override
    public void swept(List<Path> files) {
        files.forEach(file -> Counter.builder("capmesh.runtime.packages.swept")
                .description("package files the scheduled sweep removed, unused for long: compiled sources"
                        + " (kind=compiled) and copies of accepted jars (kind=jars)")
                .tags("kind", file.getParent().getFileName().toString()).register(registry).increment());
    }

    @Override
    public void quarantined(String coordinates, String reason) {
        int at = coordinates.lastIndexOf('@');
        Counter.builder("capmesh.extension.quarantined")
                .description("stored extensions a start kept without loading them (crash loops, safe mode)")
                .tags("extension", coordinates.substring(0, at), "version", coordinates.substring(at + 1))
                .register(registry).increment();
    }

    @Override
    public void childExited(ChildExit exit) {
        int at = exit.coordinates().lastIndexOf('@');
        Counter.builder("capmesh.extension.child.exits")
                .description("child JVMs of isolated extensions that ended unasked (crash, exit, out of memory)")
                .tags("extension", exit.coordinates().substring(0, at), "version", exit.coordinates().substring(at + 1))
                .register(registry).increment();
    }

    @Override
    public void childRestarted(String coordinates, long pid, int restarts) {
        int at = coordinates.lastIndexOf('@');
        Counter.builder("capmesh.extension.child.restarts")
                .description("child JVMs started again for isolated extensions")
                .tags("extension", coordinates.substring(0, at), "version", coordinates.substring(at + 1))
                .register(registry).increment();
    }

    private static Tags tags(LoadedExtension ext) {
        return Tags.of("extension", ext.manifest().id(), "version", ext.manifest().version());
    }
}
