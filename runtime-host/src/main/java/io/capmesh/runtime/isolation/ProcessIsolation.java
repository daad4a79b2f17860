package io.capmesh.runtime.isolation;

import io.capmesh.runtime.RuntimeListener;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.runtime.pkg.ManifestReader;
import io.grpc.ServerServiceDefinition;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Loads the extensions that ask for process isolation: each version gets a supervised child JVM that hosts it
 * with the runtime's own loader, and the runtime gets a stand-in whose calls, typed services included, are
 * forwarded to that child. The stand-in is published like any loaded extension, so swap, drain and unload work
 * unchanged; closing it stops the child.
 */
public final class ProcessIsolation implements AutoCloseable {

    private final IsolationSettings settings;
    private final Map<String, Map<String, String>> settingsById;
    private final List<String> tierPackages;
    private final Duration maxCallTime;
    private final int maxConcurrentCalls;
    private final int maxPayloadBytes;
    private final RuntimeListener events;
    private final Clock clock;
    private final ScheduledExecutorService restarts = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "capmesh-child-restarts");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * @param settingsById operator settings per extension id (handed to the extension; {@code isolation.max-heap}
     *                     also sizes its child)
     * @param events       told of every child that ends unasked and every restart
     */
    public ProcessIsolation(IsolationSettings settings, Map<String, Map<String, String>> settingsById,
                            List<String> tierPackages, Duration maxCallTime, int maxConcurrentCalls,
                            int maxPayloadBytes, RuntimeListener events, Clock clock) {
        this.settings = settings;
        this.settingsById = Map.copyOf(settingsById);
        this.tierPackages = List.copyOf(tierPackages);
        this.maxCallTime = maxCallTime;
        this.maxConcurrentCalls = maxConcurrentCalls;
        this.maxPayloadBytes = maxPayloadBytes;
        this.events = events;
        this.clock = clock;
    }

    /** Starts a child for the package and returns the extension once the child serves it (warmed up there). */
    public LoadedExtension load(ExtensionPackage pkg) {
        long started = System.nanoTime();
        String coordinates = pkg.manifest().coordinates();
        Map<String, String> extensionSettings = settingsById.getOrDefault(pkg.manifest().id(), Map.of());
        IsolationSettings own = settings.forExtension(coordinates, extensionSettings);
        ChildProtocol.Config config = new ChildProtocol.Config(
                ManifestReader.write(pkg.manifest().withIsolation("in-process")), pkg.source(),
                pkg.jar().toAbsolutePath().toString(), pkg.sha256(), pkg.size(), extensionSettings, tierPackages,
                maxCallTime.toMillis(), maxConcurrentCalls, maxPayloadBytes);
        ChildSupervisor supervisor = new ChildSupervisor(coordinates,
                ChildCommand.of(IsolatedExtensionMain.class, own), config, own, restarts, events);
        Child first = supervisor.start();
        List<ServerServiceDefinition> services = ForwardingServices.of(first.ready(), supervisor);
        ChildProxy proxy = new ChildProxy(supervisor, maxCallTime.toNanos());
        long micros = (System.nanoTime() - started) / 1_000;
        return new LoadedExtension(pkg, new LoadedExtension.Live(null, proxy, services), clock.instant(),
                maxConcurrentCalls, micros, supervisor::status);
    }

    @Override
    public void close() {
        restarts.shutdownNow();
    }
}
