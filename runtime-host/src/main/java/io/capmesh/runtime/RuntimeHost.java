package io.capmesh.runtime;

import io.capmesh.runtime.grpc.CallPlacement;
import io.capmesh.runtime.grpc.RuntimeGrpcService;
import io.capmesh.runtime.isolation.ChildExit;
import io.capmesh.runtime.isolation.ProcessIsolation;
import io.capmesh.runtime.loader.ExtensionLoader;
import io.capmesh.runtime.loader.ExtensionServices;
import io.capmesh.runtime.pkg.CompiledPackages;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.runtime.pkg.PackageReader;
import io.capmesh.runtime.pkg.PackageSweep;
import io.capmesh.runtime.pkg.SourceCompiler;
import io.capmesh.runtime.reclaim.LeakInspector;
import io.capmesh.runtime.reclaim.LeakPaths;
import io.capmesh.runtime.reclaim.Reclaimer;
import io.capmesh.runtime.reclaim.RenewableExecutor;
import io.capmesh.runtime.store.CallJournal;
import io.capmesh.runtime.store.SqliteExtensionStore;
import io.capmesh.signing.SignaturePolicy;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Everything a runtime service embeds, assembled: the engine, its store, the pool that runs extension code,
 * and the gRPC endpoint. {@link #configure} puts it on a gRPC server; {@link #start} restores what the store
 * holds and loads the bundled extensions.
 */
public final class RuntimeHost implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RuntimeHost.class.getName());

    private final RuntimeSettings settings;
    private final RenewableExecutor callExecutor = new RenewableExecutor("capmesh-call");
    private final ScheduledThreadPoolExecutor timers;
    private final ScheduledThreadPoolExecutor maintenance = new ScheduledThreadPoolExecutor(1, task -> {
        Thread thread = new Thread(task, "capmesh-maintenance");
        thread.setDaemon(true);
        return thread;
    });
    private final ExtensionServices extensionServices;
    private final SqliteExtensionStore store;
    private final CallJournal journal;
    private final ProcessIsolation isolation;
    private final LeakPaths leakPaths;
    private final ExtensionRuntime runtime;
    private final RuntimeGrpcService endpoint;
    private final PackageSweep sweeper;

    public RuntimeHost(RuntimeSettings settings) {
        this(settings, new HostServices());
    }

    /** @param hostServices what the tier lends its extensions (see {@link HostServices}) */
    public RuntimeHost(RuntimeSettings settings, HostServices hostServices) {
        this.settings = settings;
        this.extensionServices = new ExtensionServices(settings.maxCallTime(), callExecutor);
        this.timers = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "capmesh-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        timers.setRemoveOnCancelPolicy(true); // a finished call's timer must not linger holding its thread
        try { // first: it also makes sure no other runtime uses this data directory
            this.journal = CallJournal.open(settings.dataDirectory().resolve(CallJournal.FILE));
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the call journal in " + settings.dataDirectory() + ": "
                    + e.getMessage(), e);
        }
        try {
            this.store = new SqliteExtensionStore(settings.dataDirectory().resolve(SqliteExtensionStore.FILE));
        } catch (RuntimeException e) {
            closeQuietly(journal);
            throw e;
        }
        SourceCompiler compiler = new SourceCompiler(RuntimeHost.class.getClassLoader(),
                ExtensionLoader.sharedPackages(settings.tierPackages()), settings.packageLimits().compileTimeout());
        PackageReader reader = new PackageReader(settings.dataDirectory().resolve("jars"), settings.packageLimits(),
                settings.signatures(), new CompiledPackages(settings.dataDirectory().resolve("compiled"), compiler,
                Clock.systemUTC()));
        if (settings.signatures().policy() == SignaturePolicy.REQUIRED && settings.signatures().trusted().isEmpty()) {
            LOG.log(Level.WARNING, "capmesh.runtime.signatures.policy is required but no trusted keys are configured"
                    + " (capmesh.runtime.signatures.trusted-keys): every deploy and swap will be refused");
        }
        // child JVMs report exits and restarts to the runtime's listeners, which exist once the runtime does
        RuntimeListener childEvents = new RuntimeListener() {
            @Override
            public void childExited(ChildExit exit) {
                runtime().listeners().childExited(exit);
            }

            @Override
            public void childRestarted(String coordinates, long pid, int restarts) {
                runtime().listeners().childRestarted(coordinates, pid, restarts);
            }
        };
        this.isolation = new ProcessIsolation(settings.isolation(), settings.settings(), settings.tierPackages(),
                settings.maxCallTime(), settings.maxConcurrentCalls(), settings.maxPayloadBytes(), childEvents,
                Clock.systemUTC());
        ExtensionLoader loader = new ExtensionLoader(RuntimeHost.class.getClassLoader(), settings.tierPackages(),
                settings.settings(), settings.maxConcurrentCalls(), settings.maxQueuedCalls(), hostServices,
                Clock.systemUTC(), isolation);
        this.leakPaths = new LeakPaths(settings.leakPaths().directory() != null ? settings.leakPaths()
                : settings.leakPaths().in(settings.dataDirectory().resolve("heap-dumps")));
        Reclaimer reclaimer = new Reclaimer(new LeakInspector(callExecutor), settings.reclaimWindow(), leakPaths);
        this.runtime = new ExtensionRuntime(reader, loader, store, reclaimer, extensionServices,
                settings.drainTimeout(), journal);
        this.endpoint = new RuntimeGrpcService(runtime, callExecutor, timers, settings.maxCallTime());
        this.sweeper = new PackageSweep(List.of(settings.dataDirectory().resolve("jars"),
                settings.dataDirectory().resolve("compiled")), runtime::packagesInUse, reader, Clock.systemUTC());
    }

    public ExtensionRuntime runtime() {
        return runtime;
    }

    /** The pool every call into extension code runs on, except calls declared non-blocking. */
    public RenewableExecutor callExecutor() {
        return callExecutor;
    }

    /** The {@code capmesh.v1.RuntimeService} endpoint, to add to the server. */
    public RuntimeGrpcService endpoint() {
        return endpoint;
    }

    /**
     * Gives a server the runtime's threads (calls start on the transport's thread, see {@link CallPlacement}), its
     * limits and the extensions' typed services.
     */
    public <T extends ServerBuilder<T>> T configure(T builder) {
        return builder.directExecutor()
                .callExecutor(new CallPlacement(callExecutor, extensionServices))
                .fallbackHandlerRegistry(extensionServices)
                .maxInboundMessageSize(settings.maxPayloadBytes());
    }

    /**
     * Restores the stored extensions, then deploys each bundled package whose id is not loaded yet (a stored
     * version wins: it is what an operator deployed or swapped in last).
     */
    public void start(List<ExtensionPackage> bundled) {
        if (!ExitContainment.active()) {
            LOG.log(Level.WARNING, "exits are not contained: an extension calling System.exit or Runtime.halt ends"
                    + " this runtime. Start the JVM with -javaagent:capmesh-exit-guard.jar (bin/service, capmesh up"
                    + " and the images do)");
        }
        runtime.restore(settings.recovery()).forEach(problem -> LOG.log(Level.WARNING, problem.message()));
        for (ExtensionPackage pkg : bundled) {
            if (runtime.extension(pkg.manifest().id()).isEmpty() && !runtime.isQuarantined(pkg.manifest().id())) {
                try {
                    runtime.deploy(pkg);
                } catch (Problem.ProblemException e) {
                    LOG.log(Level.ERROR, "bundled " + pkg.manifest().coordinates() + " did not load: " + e.getMessage());
                }
            }
        }
        timers.scheduleWithFixedDelay(runtime::saveCounts, 10, 10, TimeUnit.SECONDS);
        long sweepEvery = settings.sweep().every().toMillis();
        // not on the call deadlines' thread: it lists, stats and deletes files
        maintenance.scheduleWithFixedDelay(this::sweep, sweepEvery, sweepEvery, TimeUnit.MILLISECONDS);
        long idle = settings.idleEviction().toMillis();
        if (idle > 0) {
            // on its own thread: verifying a reclamation takes a while and must not hold up the call deadlines
            maintenance.scheduleWithFixedDelay(() -> {
                try {
                    runtime.hibernateIdle(settings.idleEviction());
                } catch (RuntimeException e) { // a failed round must not end the schedule
                    LOG.log(Level.WARNING, "hibernating idle extensions failed: " + e);
                }
            }, Math.max(10, idle / 4), Math.max(10, idle / 4), TimeUnit.MILLISECONDS);
        }
    }

    /** Removes the package files unused for longer than the sweep's setting; returns what went. */
    public List<Path> sweep() {
        try {
            List<Path> swept = sweeper.sweep(settings.sweep().unusedFor());
            if (!swept.isEmpty()) {
                LOG.log(Level.INFO, "swept " + swept.size() + " package file(s) unused for "
                        + settings.sweep().unusedFor() + ": " + swept.stream().map(file -> file.getParent()
                        .getFileName() + "/" + file.getFileName()).toList());
                runtime.listeners().swept(swept);
            }
            return swept;
        } catch (RuntimeException e) { // a failed round must not end the schedule
            LOG.log(Level.WARNING, "sweeping unused package files failed: " + e);
            return List.of();
        }
    }

    /** Reads a bundled package from the class path of the service: part of the service, so it needs no signature. */
    public ExtensionPackage bundled(String name, InputStream jar) throws IOException {
        return runtime.reader().readShipped(jar, name);
    }

    @Override
    public void close() {
        try {
            timers.shutdownNow();
            maintenance.shutdownNow();
            runtime.close(); // stops the child JVMs too
            isolation.close();
            leakPaths.close();
            store.close();
            callExecutor.shutdown();
        } finally {
            closeQuietly(journal); // last: the run ended cleanly
        }
    }

    private static void closeQuietly(CallJournal journal) {
        try {
            journal.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot mark the call journal closed; the next start will take this run for a"
                    + " crash: " + e);
        }
    }
}
