package io.capmesh.runtime;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import io.capmesh.runtime.isolation.ChildExit;
import io.capmesh.runtime.isolation.ChildStatus;
import io.capmesh.runtime.loader.ExtensionClassLoader;
import io.capmesh.runtime.loader.ExtensionLoader;
import io.capmesh.runtime.loader.ExtensionServices;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.runtime.pkg.PackageReader;
import io.capmesh.runtime.reclaim.Reclaimer;
import io.capmesh.runtime.reclaim.Reclamation;
import io.capmesh.runtime.store.CallJournal;
import io.capmesh.runtime.store.ExtensionStore;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The engine of a runtime: deploys, swaps and unloads extensions and routes calls to the current version of
 * each capability.
 *
 * <p>Deploy: package reader, loader (classloader, instance, warm-up), store (persist), then one atomic publish
 * and the typed services mounted; the deploy is acknowledged only after all of it. Invoke: look up the
 * capability, pin that version for the call, take one of its call permits (waiting in its bounded queue, within the
 * call's deadline, when all are taken), run it, unpin. Unload: unpublish, drain the pinned
 * calls, close, and verify that the classloader was collected. Swap: the new version is built and warmed
 * completely, then published in one step, then the old one is unloaded. Hibernate (after idling): unloaded the
 * same way, but it stays deployed (stored, listed, offered); its next call reloads it. Control operations are
 * serialized; calls never wait for them, except a call that wakes a hibernated extension.
 *
 * <p>Expected failures are {@link Problem}s, thrown as {@link Problem.ProblemException} and answered with
 * their status.
 */
public final class ExtensionRuntime implements AutoCloseable {

    /** A package this runtime can load on demand, and how long loading it is expected to take. */
    public record Available(ExtensionPackage pkg, long estimatedLoadMicros) {
    }

    /** What one call returned and which version answered it. */
    public record Invoked(byte[] payload, String extensionId, String version) {
    }

    /** A new version now serving, and what became of the one it replaced. */
    public record Swapped(LoadedExtension current, Reclamation previous, long swapMicros) {
    }

    /** The published state: replaced as a whole, so a reader sees either all of a swap or none of it. */
    private record Published(Map<String, LoadedExtension> byCapability, Map<String, LoadedExtension> byId) {
        static final Published EMPTY = new Published(Map.of(), Map.of());
    }

    private static final int HISTORY_PER_ID = 16;

    private final PackageReader reader;
    private final ExtensionLoader loader;
    private final ExtensionStore store;
    private final Reclaimer reclaimer;
    private final ExtensionServices services;
    private final Duration drainTimeout;
    private final Object control = new Object();
    private final Map<String, Deque<Reclamation>> history = new ConcurrentHashMap<>();
    /** The exits each id's code asked for and was refused, newest last. */
    private final Map<String, Deque<BlockedExit>> blockedExits = new ConcurrentHashMap<>();
    /** Loader serials of unloads whose verdict is being reached and not recorded yet. */
    private final java.util.Set<Long> recording = ConcurrentHashMap.newKeySet();
    /** Later news of a verdict that arrived before the unload recorded the verdict, by loader serial. */
    private final Map<Long, Reclamation> earlyNews = new ConcurrentHashMap<>();
    private final List<RuntimeListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, ExtensionPackage> available = new ConcurrentHashMap<>();
    private final Map<String, Long> measuredLoadMicros = new ConcurrentHashMap<>();
    private final Map<String, Object> loadLocks = new ConcurrentHashMap<>();
    /** Writes new deploys to the store beside the classloader's work. */
    private final ExecutorService storeWriter = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "capmesh-store-writer");
        thread.setDaemon(true);
        return thread;
    });
    private volatile Published published = Published.EMPTY;
    /** Deployed extensions unloaded for idling, by id: detached versions kept for their manifest and counts. */
    private final Map<String, LoadedExtension> hibernated = new ConcurrentHashMap<>();
    /** Stored extensions kept without loading them (crash loops, safe mode), by id. */
    private final Map<String, Quarantined> quarantined = new ConcurrentHashMap<>();
    /** What extension code is doing, where a crash cannot erase it; null keeps no journal (a child JVM). */
    private final CallJournal journal;

    /** A stored extension kept without loading it, and why. */
    public record Quarantined(ExtensionStore.StoredExtension stored, ExtensionStore.Quarantine quarantine) {
    }

    public ExtensionRuntime(PackageReader reader, ExtensionLoader loader, ExtensionStore store, Reclaimer reclaimer,
                            ExtensionServices services, Duration drainTimeout) {
        this(reader, loader, store, reclaimer, services, drainTimeout, null);
    }

    /** @param journal where loads and calls in progress are kept for crash-loop detection; null keeps none */
    public ExtensionRuntime(PackageReader reader, ExtensionLoader loader, ExtensionStore store, Reclaimer reclaimer,
                            ExtensionServices services, Duration drainTimeout, CallJournal journal) {
        this.journal = journal;
        this.reader = reader;
        this.loader = loader;
        this.store = store;
        this.reclaimer = reclaimer;
        this.services = services;
        this.drainTimeout = drainTimeout;
        services.whenAsleep(this::servesAsleep, this::wakeService);
        ExitContainment.install();
        loader.onBlockedExit(attempt -> exitBlocked(ExitContainment.describe(attempt)));
    }

    public PackageReader reader() {
        return reader;
    }

    public void addListener(RuntimeListener listener) {
        listeners.add(listener);
    }

    /** One listener that tells every listener added, for parts that report on their own (child JVMs). */
    public RuntimeListener listeners() {
        return new RuntimeListener() {
            @Override
            public void published(LoadedExtension current, LoadedExtension replaced) {
                listeners.forEach(l -> l.published(current, replaced));
            }

            @Override
            public void unpublished(LoadedExtension previous) {
                listeners.forEach(l -> l.unpublished(previous));
            }

            @Override
            public void reclaimed(Reclamation reclamation) {
                listeners.forEach(l -> l.reclaimed(reclamation));
            }

            @Override
            public void reclamationChanged(Reclamation before, Reclamation after) {
                listeners.forEach(l -> l.reclamationChanged(before, after));
            }

            @Override
            public void exitBlocked(BlockedExit exit) {
                listeners.forEach(l -> l.exitBlocked(exit));
            }

            @Override
            public void quarantined(String coordinates, String reason) {
                listeners.forEach(l -> l.quarantined(coordinates, reason));
            }

            @Override
            public void childExited(ChildExit exit) {
                listeners.forEach(l -> l.childExited(exit));
            }

            @Override
            public void childRestarted(String coordinates, long pid, int restarts) {
                listeners.forEach(l -> l.childRestarted(coordinates, pid, restarts));
            }

            @Override
            public void swept(List<Path> files) {
                listeners.forEach(l -> l.swept(files));
            }
        };
    }

    // ---- calls ------------------------------------------------------------------------------------------

    /** How long {@link #invoke(String, String, byte[], Map)} lets a call wait for a permit. */
    public static final Duration DEFAULT_QUEUE_WAIT = Duration.ofSeconds(30);

    public Invoked invoke(String capability, String method, byte[] payload, Map<String, String> attributes) {
        return invoke(capability, method, payload, attributes, DEFAULT_WAIT);
    }

    /** A deadline of {@link #DEFAULT_QUEUE_WAIT} from when the call starts waiting: no clock read unless it waits. */
    private static final long DEFAULT_WAIT = Long.MIN_VALUE;

    /**
     * @param deadlineNanos on {@link System#nanoTime()}: how long the call may wait for a permit when every one of
     *                      its version is taken (the caller's deadline, capped by max-call-time)
     */
    public Invoked invoke(String capability, String method, byte[] payload, Map<String, String> attributes,
                          long deadlineNanos) {
        if (capability.isEmpty() || method.isEmpty()) {
            throw Problem.invalid("both capability and method are required, e.g. capability 'core.echo', "
                    + "method 'echo'").toException();
        }
        long waitingSince = 0; // the clock is read only by a call that has to wait: most never do
        for (;;) {
            LoadedExtension ext = pin(capability);
            try {
                if (!ext.methods(capability).contains(method)) {
                    throw Problem.notFound("capability " + capability + " has no method '" + method + "'; it has: "
                            + String.join(", ", new TreeSet<>(ext.methods(capability)))).toException();
                }
                LoadedExtension.Admission admission = LoadedExtension.Admission.ADMITTED;
                if (!ext.tryAcquirePermit()) {
                    if (waitingSince == 0) {
                        waitingSince = System.nanoTime();
                    }
                    admission = admit(ext, deadlineNanos == DEFAULT_WAIT
                            ? waitingSince + DEFAULT_QUEUE_WAIT.toNanos() : deadlineNanos);
                }
                if (admission == LoadedExtension.Admission.RETIRED) {
                    continue; // swapped or unloaded while it waited: wait on the version published now, if any
                }
                if (admission != LoadedExtension.Admission.ADMITTED) {
                    throw ext.refusal(admission, System.nanoTime() - waitingSince).toException();
                }
                try {
                    return new Invoked(call(ext, new Invocation(capability, method, payload, attributes)),
                            ext.manifest().id(), ext.manifest().version());
                } finally {
                    ext.releasePermit();
                }
            } finally {
                ext.unpin();
            }
        }
    }

    /** True when the method is declared non-blocking by the version serving it now (a hint: see invokeInline). */
    public boolean mayRunInline(String capability, String method) {
        LoadedExtension ext = published.byCapability().get(capability);
        return ext != null && ext.runsInline(capability, method);
    }

    /**
     * Runs the call on the calling thread (a transport thread) when it can run there without waiting: the method is
     * declared non-blocking, its extension is loaded and awake, and a call permit is free. Otherwise does nothing and
     * answers null: the call then goes to the call pool and {@link #invoke}. A call longer than
     * {@link LoadedExtension#INLINE_CALL_LIMIT} sends its extension's later calls to the pool (once it is warm).
     */
    public Invoked invokeInline(String capability, String method, byte[] payload, Map<String, String> attributes) {
        LoadedExtension ext = published.byCapability().get(capability); // never wakes a hibernated one: that loads
        if (ext == null || !ext.runsInline(capability, method) || !ext.tryPin()) {
            return null;
        }
        try {
            if (!ext.tryAcquirePermit()) {
                return null; // waiting for a permit is blocking
            }
            long start = System.nanoTime();
            try {
                return new Invoked(call(ext, new Invocation(capability, method, payload, attributes)),
                        ext.manifest().id(), ext.manifest().version());
            } finally {
                ext.releasePermit();
                ext.ranInline(capability + "/" + method, System.nanoTime() - start);
            }
        } finally {
            ext.unpin();
        }
    }

    /**
     * A call on a transport thread overran a deadline of at least the inline limit (it may never return): the
     * capability's calls go to the call pool from now on.
     */
    public void overranInline(String capability, String method) {
        LoadedExtension ext = published.byCapability().get(capability);
        if (ext != null) {
            ext.stopRunningInline(capability + "/" + method + " overran its deadline");
        }
    }

    private static LoadedExtension.Admission admit(LoadedExtension ext, long deadlineNanos) {
        try {
            return ext.awaitPermit(deadlineNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the call's deadline interrupts it; that has answered already
            return LoadedExtension.Admission.TIMED_OUT;
        }
    }

    /** The current version of the capability, pinned for one call. */
    private LoadedExtension pin(String capability) {
        for (;;) {
            LoadedExtension ext = published.byCapability().get(capability);
            if (ext == null && wake(hibernatedProvider(capability))) {
                continue;
            }
            if (ext == null) {
                throw Problem.notFound("no capability '" + capability + "' in this runtime; it serves: "
                        + String.join(", ", new TreeSet<>(published.byCapability().keySet()))).toException();
            }
            if (ext.tryPin()) {
                return ext;
            }
            // retired between the lookup and the pin: its successor is already published
        }
    }

    private static byte[] call(LoadedExtension ext, Invocation invocation) {
        LoadedExtension.Live live = ext.live();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(live.contextLoader());
        boolean failed = true;
        long exitsRefused = ExitContainment.mark();
        try {
            byte[] result = live.instance().invoke(invocation);
            Problem exitRefused = ExitContainment.refusedSince(exitsRefused);
            if (exitRefused != null) {
                throw exitRefused.toException(); // it caught the refusal; the caller hears of it all the same
            }
            failed = false;
            return result == null ? new byte[0] : result;
        } catch (CapabilityException e) {
            throw new Problem(Status.Code.valueOf(e.reason().name()), e.getMessage()).toException();
        } catch (InterruptedException e) {
            thread.interrupt();
            throw new Problem(Status.Code.CANCELLED, ext.manifest().coordinates() + " was interrupted")
                    .toException();
        } catch (Problem.ProblemException e) {
            throw e; // an isolated extension's answer, already a status
        } catch (Exception | LinkageError | StackOverflowError e) {
            var refusal = ExitContainment.refusal(e);
            Problem exitRefused = ExitContainment.refusedSince(exitsRefused); // also clears it: answered here
            if (refusal != null || exitRefused != null) {
                throw (refusal != null ? Problem.precondition(refusal.getMessage()) : exitRefused).toException();
            }
            throw new Problem(Status.Code.INTERNAL, ext.manifest().coordinates() + " failed on "
                    + invocation.capability() + "/" + invocation.method() + ": " + e).toException();
        } finally {
            ext.recordCall(failed);
            thread.setContextClassLoader(previous);
        }
    }

    // ---- control ----------------------------------------------------------------------------------------

    /**
     * Loads a new extension; its id must not be loaded yet (replace a loaded one with {@link #swap}). The package
     * is written to the store while the classloader does its work (a new id has no stored version to lose if it
     * fails to load), and the deploy is acknowledged only once both are done.
     */
    public LoadedExtension deploy(ExtensionPackage pkg) {
        String id = pkg.manifest().id();
        synchronized (loading(id)) { // one deploy of an id at a time: the store's row for it is this deploy's
            synchronized (control) {
                checkDeployable(pkg, null);
            }
            CompletableFuture<Void> persisted = CompletableFuture.runAsync(
                    () -> persist(pkg, Instant.now(), 0, 0), storeWriter);
            LoadedExtension ext;
            try {
                ext = journaledLoad(pkg);
            } catch (RuntimeException | Error e) {
                forgetUnpublished(id, persisted);
                throw e;
            }
            try {
                awaitPersisted(persisted);
                synchronized (control) {
                    checkDeployable(pkg, null);
                    publish(ext, null);
                }
                LifecycleLog.loaded("deployed", ext);
                return ext;
            } catch (RuntimeException e) {
                discard(ext);
                forgetUnpublished(id, persisted);
                throw e;
            }
        }
    }

    private static void awaitPersisted(CompletableFuture<Void> persisted) {
        try {
            persisted.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    /** Removes what a failed deploy wrote to the store, once the write is over, unless the id serves after all. */
    private void forgetUnpublished(String id, CompletableFuture<Void> persisted) {
        try {
            persisted.join();
        } catch (CompletionException notWritten) {
            // nothing to remove, or a partial row the store's transaction already rolled back
        }
        synchronized (control) {
            Quarantined held = quarantined.get(id);
            if (held != null) { // the failed deploy overwrote the quarantined version: put it back as it was
                store.put(held.stored());
                if (held.stored().quarantine() != null) {
                    store.quarantine(id, held.stored().quarantine());
                }
            } else if (!published.byId().containsKey(id) && !hibernated.containsKey(id)) {
                store.remove(id);
            }
        }
    }

    /** The package files extensions have now: loaded, hibernated or available (the jar and the package sent). */
    public Set<Path> packagesInUse() {
        Set<Path> files = new HashSet<>();
        Stream.of(published.byId().values().stream().map(LoadedExtension::pkg),
                hibernated.values().stream().map(LoadedExtension::pkg), available.values().stream())
                .flatMap(packages -> packages).forEach(pkg -> {
                    files.add(pkg.jar());
                    files.add(pkg.received());
                });
        return files;
    }

    /** Offers a package for loading on demand (tier 2) without loading it. */
    public void makeAvailable(ExtensionPackage pkg) {
        available.put(pkg.manifest().id(), pkg);
    }

    /** The available packages that are not loaded, with load times measured here (or estimated from them). */
    public List<Available> available() {
        Map<String, LoadedExtension> loaded = published.byId();
        return available.values().stream()
                .filter(pkg -> !loaded.containsKey(pkg.manifest().id()) && !hibernated.containsKey(pkg.manifest().id())
                        && !quarantined.containsKey(pkg.manifest().id()))
                .sorted(java.util.Comparator.comparing(pkg -> pkg.manifest().id()))
                .map(pkg -> new Available(pkg, estimatedLoadMicros(pkg)))
                .toList();
    }

    /**
     * Loads an available package by id. Asking for one that is already loaded at the available version answers
     * with that version, so concurrent requests for the same capability load it once.
     */
    public LoadedExtension load(String id) {
        if (quarantined.containsKey(id)) { // a crash loop is not restarted by a call that wants it
            throw Problem.precondition(id + " is quarantined in this runtime: " + quarantined.get(id).quarantine()
                    .reason()).toException();
        }
        ExtensionPackage pkg = available.get(id);
        if (pkg == null) {
            throw Problem.notFound("no package " + id + " is available in this runtime; available: "
                    + String.join(",", new TreeSet<>(available.keySet()))).toException();
        }
        wake(hibernated.containsKey(id) ? id : null);
        synchronized (loading(id)) {
            LoadedExtension current = published.byId().get(id);
            if (current != null && current.manifest().version().equals(pkg.manifest().version())) {
                return current;
            }
            return deploy(pkg);
        }
    }

    /** Loads with the journal counting the load, and the loaded version counting its calls there. */
    private LoadedExtension journaledLoad(ExtensionPackage pkg) {
        if (journal == null || pkg.manifest().processIsolation()) { // a child's crash ends only the child
            return loader.load(pkg);
        }
        CallJournal.Slot slot = journal.slot(pkg.manifest().id());
        slot.loadStarted();
        try {
            return loader.load(pkg).journaling(slot);
        } finally {
            slot.loadEnded();
        }
    }

    private Object loading(String id) {
        return loadLocks.computeIfAbsent(id, key -> new Object());
    }

    /** The last measured load of this id; else this runtime's measured load speed applied to the package size. */
    private long estimatedLoadMicros(ExtensionPackage pkg) {
        Long measured = measuredLoadMicros.get(pkg.manifest().id());
        if (measured != null) {
            return measured;
        }
        var loads = published.byId().values();
        long bytes = loads.stream().mapToLong(e -> e.pkg().size()).sum();
        long micros = loads.stream().mapToLong(LoadedExtension::loadMicros).sum();
        return bytes == 0 ? 0 : Math.max(1, pkg.size() * micros / bytes);
    }

    /** Builds and warms the new version, publishes it in place of the current one, then unloads that. */
    public Swapped swap(ExtensionPackage pkg) {
        long start = System.nanoTime();
        wake(hibernated.containsKey(pkg.manifest().id()) ? pkg.manifest().id() : null);
        LoadedExtension old;
        synchronized (control) {
            old = published.byId().get(pkg.manifest().id());
            if (old == null) {
                throw Problem.notFound(pkg.manifest().id() + " is not loaded, so there is nothing to swap; "
                        + "use Deploy").toException();
            }
            checkDeployable(pkg, old);
        }
        LoadedExtension ext = journaledLoad(pkg);
        long swapMicros;
        try {
            synchronized (control) {
                if (published.byId().get(pkg.manifest().id()) != old) {
                    throw Problem.precondition(pkg.manifest().id() + " changed while " + pkg.manifest().version()
                            + " was loading; look at ListExtensions and try again").toException();
                }
                checkDeployable(pkg, old);
                // in turn, not alongside the load: until the new version serves, the store keeps the old one
                persist(pkg, ext.deployedAt(), ext.invocations(), ext.failures());
                publish(ext, old);
                swapMicros = (System.nanoTime() - start) / 1_000;
            }
        } catch (RuntimeException e) {
            discard(ext);
            throw e;
        }
        LifecycleLog.swapped(old, ext, swapMicros);
        Reclamation previous = finish(old, drainTimeout, System.nanoTime());
        ext.addToCounts(old.invocations(), old.failures()); // after the drain, so late calls count too
        return new Swapped(ext, previous, swapMicros);
    }

    /**
     * Unpublishes an extension, drains its calls, closes it and verifies its classloader was collected.
     *
     * @param version the version expected to be loaded, or empty for whichever is
     */
    public Reclamation unload(String id, String version, Duration drain) {
        long start = System.nanoTime();
        LoadedExtension ext;
        synchronized (control) {
            ext = published.byId().get(id);
            LoadedExtension asleep = hibernated.get(id);
            if (ext == null && asleep != null
                    && (version.isEmpty() || version.equals(asleep.manifest().version()))) {
                store.remove(id);
                hibernated.remove(id);
                listeners.forEach(l -> l.unpublished(asleep));
                Reclamation verdict = new Reclamation(asleep.manifest().coordinates(), Reclamation.State.COLLECTED,
                        0, List.of(), List.of("it was hibernated: its classloader had been reclaimed then"));
                LifecycleLog.verdict(verdict);
                return verdict;
            }
            if (ext == null && quarantined.containsKey(id)) {
                throw Problem.precondition(id + " is quarantined, not loaded: " + quarantined.get(id).quarantine()
                        .reason() + ". capmesh store remove " + id + " drops it from a stopped runtime's store")
                        .toException();
            }
            if (ext == null) {
                throw Problem.notFound("extension " + id + " is not loaded; loaded: "
                        + String.join(", ", new TreeSet<>(published.byId().keySet()))).toException();
            }
            if (!version.isEmpty() && !version.equals(ext.manifest().version())) {
                throw Problem.notFound(id + " " + version + " is not loaded; " + ext.manifest().coordinates()
                        + " is").toException();
            }
            store.remove(id);
            publish(null, ext);
        }
        return finish(ext, drain.isZero() ? drainTimeout : drain, start);
    }

    // ---- hibernation ------------------------------------------------------------------------------------

    /**
     * Hibernates each in-process extension with no call for {@code idle}: unpublished, drained, closed and its
     * classloader reclaimed as an unload does, but kept in the store and listed, so its next call reloads it.
     */
    public void hibernateIdle(Duration idle) {
        for (LoadedExtension ext : published.byId().values()) {
            if (ext.live() == null || ext.live().isolated() || ext.idleNanos() < idle.toNanos()) {
                continue;
            }
            long start = System.nanoTime();
            synchronized (loading(ext.manifest().id())) {
                synchronized (control) {
                    if (published.byId().get(ext.manifest().id()) != ext || ext.idleNanos() < idle.toNanos()) {
                        continue;
                    }
                    ext.markHibernated();
                    hibernated.put(ext.manifest().id(), ext);
                    publish(null, ext);
                }
                LifecycleLog.hibernated(ext, idle);
                finish(ext, drainTimeout, start);
            }
        }
    }

    /** The id of the hibernated extension providing a capability, or null. */
    private String hibernatedProvider(String capability) {
        for (LoadedExtension ext : hibernated.values()) {
            if (ext.methods(capability) != null) {
                return ext.manifest().id();
            }
        }
        return null;
    }

    /** True when a hibernated extension served the typed service. */
    private boolean servesAsleep(String serviceName) {
        return hibernated.values().stream().anyMatch(ext -> ext.serviceNames().contains(serviceName));
    }

    /** Wakes the hibernated extension that served a typed service; false when none did. */
    private boolean wakeService(String serviceName) {
        for (LoadedExtension ext : hibernated.values()) {
            if (ext.serviceNames().contains(serviceName)) {
                return wake(ext.manifest().id());
            }
        }
        return false;
    }

    /**
     * Reloads a hibernated extension from the store, once for concurrent callers, on the caller's thread (so
     * within its deadline). True when it is published (by this call or another); false for a null id.
     */
    private boolean wake(String id) {
        if (id == null) {
            return false;
        }
        synchronized (loading(id)) {
            LoadedExtension asleep = hibernated.get(id);
            if (asleep == null) {
                return published.byId().containsKey(id); // woken by another caller, or unloaded meanwhile
            }
            ExtensionStore.StoredExtension stored = store.all().stream()
                    .filter(e -> e.manifest().id().equals(id)).findFirst()
                    .orElseThrow(() -> new Problem(Status.Code.INTERNAL, asleep.manifest().coordinates()
                            + " is hibernated but missing from the store; deploy it again").toException());
            ExtensionPackage pkg;
            try {
                pkg = reader.read(new ByteArrayInputStream(stored.jar()), "stored " + stored.manifest().coordinates(),
                        stored.sha256());
            } catch (IOException e) {
                throw new Problem(Status.Code.UNAVAILABLE, "could not read hibernated "
                        + asleep.manifest().coordinates() + " from the store: " + e).toException();
            }
            LoadedExtension ext = journaledLoad(pkg);
            ext.addToCounts(asleep.invocations(), asleep.failures());
            try {
                synchronized (control) {
                    if (!hibernated.remove(id, asleep)) {
                        throw Problem.precondition(id + " changed while it was waking; try again").toException();
                    }
                    checkDeployable(pkg, null);
                    publish(ext, null);
                }
            } catch (RuntimeException e) {
                discard(ext);
                throw e;
            }
            LifecycleLog.loaded("woke", ext);
            return true;
        }
    }

    /** Loads what the store holds; returns the problems of those that no longer load. */
    public List<Problem> restore() {
        return restore(RuntimeSettings.Recovery.DEFAULT);
    }

    /**
     * Loads what the store holds, except what it keeps quarantined: those whose earlier loads or calls ended the
     * runtime in a crash loop (decided here, from the journal of the last run), and everything in safe mode.
     * Returns the problems of those that no longer load.
     */
    public List<Problem> restore(RuntimeSettings.Recovery recovery) {
        List<ExtensionStore.StoredExtension> all = store.all();
        Map<String, ExtensionStore.Quarantine> crashLoops = CrashLoops.quarantine(journal, store, all, recovery,
                Instant.now());
        return all.stream().map(stored -> {
            String id = stored.manifest().id();
            ExtensionStore.Quarantine quarantine = recovery.safeMode()
                    ? new ExtensionStore.Quarantine("kept by safe mode (capmesh.runtime.recovery.safe-mode=true),"
                            + " which restores nothing: capmesh quarantine release " + id + " loads it", Instant.now())
                    : crashLoops.getOrDefault(id, stored.quarantine());
            if (quarantine != null) {
                quarantined.put(id, new Quarantined(stored, quarantine));
                LifecycleLog.quarantined(stored.manifest().id(), stored.manifest().version(), quarantine.reason());
                listeners.forEach(l -> l.quarantined(stored.manifest().coordinates(), quarantine.reason()));
                return null;
            }
            try {
                LifecycleLog.loaded("restored", publishStored(readStored(stored), stored));
                return null;
            } catch (Problem.ProblemException e) {
                return new Problem(e.problem().code(), "stored " + stored.manifest().coordinates()
                        + " was not restored: " + e.problem().message());
            } catch (IOException | RuntimeException e) { // one package that cannot be read keeps no other from loading
                return Problem.precondition("stored " + stored.manifest().coordinates() + " was not restored: " + e);
            }
        }).filter(p -> p != null).toList();
    }

    private ExtensionPackage readStored(ExtensionStore.StoredExtension stored) throws IOException {
        return reader.read(new ByteArrayInputStream(stored.jar()), "stored " + stored.manifest().coordinates(),
                stored.sha256());
    }

    /** Loads a stored package with its past call counts and publishes it (restore, release). */
    private LoadedExtension publishStored(ExtensionPackage pkg, ExtensionStore.StoredExtension stored) {
        LoadedExtension ext = journaledLoad(pkg);
        ext.addToCounts(stored.invocations(), stored.failures());
        try {
            synchronized (control) {
                checkDeployable(pkg, null);
                publish(ext, null);
            }
        } catch (RuntimeException e) {
            discard(ext);
            throw e;
        }
        return ext;
    }

    /** The stored extensions kept without loading them, by id. */
    public List<Quarantined> quarantined() {
        return quarantined.values().stream()
                .sorted(java.util.Comparator.comparing(q -> q.stored().manifest().id())).toList();
    }

    public boolean isQuarantined(String id) {
        return quarantined.containsKey(id);
    }

    /**
     * Loads a quarantined extension from the store and forgets the abnormal ends that quarantined it: an operator
     * says it is fixed (its settings, or what it depends on), or that the crashes were not its doing.
     */
    public LoadedExtension release(String id) {
        synchronized (loading(id)) {
            Quarantined held = quarantined.get(id);
            if (held == null) {
                throw Problem.notFound(id + " is not quarantined in this runtime; quarantined: "
                        + (quarantined.isEmpty() ? "none" : String.join(", ", new TreeSet<>(quarantined.keySet()))))
                        .toException();
            }
            ExtensionStore.StoredExtension stored = held.stored();
            ExtensionPackage pkg;
            try {
                pkg = readStored(stored);
            } catch (IOException e) {
                throw Problem.precondition("stored " + stored.manifest().coordinates() + " cannot be read: " + e)
                        .toException();
            }
            store.release(id); // first: what an operator released stays released, whatever its load does
            store.clearAbnormalEnds();
            LoadedExtension ext = publishStored(pkg, stored);
            LifecycleLog.loaded("released", ext);
            return ext;
        }
    }

    /** Writes each loaded extension's call counts to the store. */
    public void saveCounts() {
        for (LoadedExtension ext : published.byId().values()) {
            store.setCounts(ext.manifest().id(), ext.invocations(), ext.failures());
        }
        for (LoadedExtension ext : hibernated.values()) {
            store.setCounts(ext.manifest().id(), ext.invocations(), ext.failures());
        }
    }

    /** The deployed extensions: those loaded and those hibernated. */
    public List<LoadedExtension> extensions() {
        return java.util.stream.Stream.concat(published.byId().values().stream(), hibernated.values().stream())
                .sorted(java.util.Comparator.comparing(e -> e.manifest().id())).toList();
    }

    public Optional<LoadedExtension> extension(String id) {
        LoadedExtension ext = published.byId().get(id);
        return Optional.ofNullable(ext != null ? ext : hibernated.get(id));
    }

    /** The exits the id's code asked for and was refused (the latest {@value #HISTORY_PER_ID}), oldest first. */
    public List<BlockedExit> blockedExits(String id) {
        Deque<BlockedExit> exits = blockedExits.get(id);
        if (exits == null) {
            return List.of();
        }
        synchronized (exits) {
            return List.copyOf(exits);
        }
    }

    private void exitBlocked(BlockedExit exit) {
        Deque<BlockedExit> exits = blockedExits.computeIfAbsent(exit.extensionId(), id -> new ArrayDeque<>());
        synchronized (exits) {
            exits.addLast(exit);
            while (exits.size() > HISTORY_PER_ID) {
                exits.removeFirst();
            }
        }
        LifecycleLog.exitBlocked(exit);
        listeners.forEach(l -> l.exitBlocked(exit));
    }

    /** The unloaded versions of an extension, newest first, and what became of their classloaders. */
    public List<Reclamation> unloaded(String id) {
        Deque<Reclamation> past = history.get(id);
        if (past == null) {
            return List.of();
        }
        synchronized (past) {
            return List.copyOf(past);
        }
    }

    private void checkDeployable(ExtensionPackage pkg, LoadedExtension replacing) {
        String id = pkg.manifest().id();
        LoadedExtension current = published.byId().get(id);
        if (current == null) {
            current = hibernated.get(id);
        }
        if (current != null && current != replacing) {
            if (current.manifest().version().equals(pkg.manifest().version())) {
                throw Problem.exists(current.manifest().coordinates() + " is already loaded").toException();
            }
            throw Problem.precondition(current.manifest().coordinates() + " is loaded; use Swap to replace it with "
                    + pkg.manifest().version()).toException();
        }
        if (replacing != null && replacing.manifest().version().equals(pkg.manifest().version())) {
            throw Problem.exists(replacing.manifest().coordinates() + " is already the loaded version; give the "
                    + "new build a new version").toException();
        }
        for (var capability : pkg.manifest().capabilities()) {
            LoadedExtension provider = published.byCapability().get(capability.name());
            if (provider == null) {
                String asleep = hibernatedProvider(capability.name());
                provider = asleep == null ? null : hibernated.get(asleep);
            }
            if (provider != null && !provider.manifest().id().equals(id)) {
                throw Problem.precondition("capability " + capability.name() + " is already provided by "
                        + provider.manifest().coordinates() + "; unload it first").toException();
            }
        }
    }

    private void persist(ExtensionPackage pkg, Instant deployedAt, long invocations, long failures) {
        try {
            store.put(new ExtensionStore.StoredExtension(pkg.manifest(), pkg.sha256(), Files.readAllBytes(pkg.received()),
                    deployedAt, invocations, failures));
        } catch (IOException | IllegalStateException e) {
            throw new Problem(Status.Code.UNAVAILABLE, "could not persist " + pkg.manifest().coordinates()
                    + ", so it was not deployed: " + e.getMessage()).toException();
        }
    }

    /** Replaces {@code old} by {@code ext} (either may be null) in one write, and (un)mounts typed services. */
    private void publish(LoadedExtension ext, LoadedExtension old) {
        Map<String, LoadedExtension> byCapability = new HashMap<>(published.byCapability());
        Map<String, LoadedExtension> byId = new HashMap<>(published.byId());
        if (old != null) {
            byCapability.values().removeIf(e -> e == old);
            byId.remove(old.manifest().id());
        }
        if (ext != null) {
            ext.manifest().capabilities().forEach(c -> byCapability.put(c.name(), ext));
            byId.put(ext.manifest().id(), ext);
            quarantined.remove(ext.manifest().id()); // released, or replaced by a new deploy
        }
        published = new Published(Map.copyOf(byCapability), Map.copyOf(byId));
        if (old != null) {
            listeners.forEach(l -> l.unpublished(old));
        }
        if (ext != null) {
            measuredLoadMicros.put(ext.manifest().id(), ext.loadMicros());
            listeners.forEach(l -> l.published(ext, old));
        }
        if (ext != null) {
            services.mount(ext); // replaces same-named services of the old version: no gap during a swap
        }
        if (old != null) {
            services.unmount(old);
        }
    }

    /** Drains, closes and reclaims a version that is no longer published. */
    private Reclamation finish(LoadedExtension ext, Duration drain, long startNanos) {
        ext.retire();
        boolean drained;
        try {
            drained = ext.awaitDrained(drain.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        int stuck = ext.inFlight();
        String closeError = closeInstance(ext);
        long serial = ext.live().loader() == null ? 0 : ext.live().loader().serial();
        recording.add(serial);
        Reclamation reclamation = reclaim(ext, startNanos);
        if (!drained || closeError != null) {
            List<String> causes = new java.util.ArrayList<>();
            if (!drained) {
                causes.add(stuck + " call(s) still running after the drain timeout of " + drain.toMillis() + " ms");
            }
            if (closeError != null) {
                causes.add(closeError);
            }
            causes.addAll(reclamation.causes());
            reclamation = reclamation.withCauses(reclamation.state() == Reclamation.State.LEAKED ? causes : List.of());
        }
        Deque<Reclamation> past = history.computeIfAbsent(ext.manifest().id(), id -> new ArrayDeque<>());
        synchronized (past) {
            recording.remove(serial);
            Reclamation news = earlyNews.remove(serial);
            if (news != null) {
                reclamation = withNews(reclamation, news);
            }
            past.addFirst(reclamation);
            while (past.size() > HISTORY_PER_ID) {
                past.removeLast();
            }
        }
        Reclamation verdict = reclamation;
        LifecycleLog.verdict(verdict);
        listeners.forEach(l -> l.reclaimed(verdict));
        return reclamation;
    }

    /** Calls the extension's close; returns what went wrong, if anything. */
    private static String closeInstance(LoadedExtension ext) {
        LoadedExtension.Live live = ext.live();
        Extension instance = live.instance();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(live.contextLoader());
        try {
            instance.close();
            return null;
        } catch (Exception | LinkageError e) {
            return "close() failed: " + e;
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /**
     * Detaches a closed version and verifies that what it held is gone: its classloader collected, or for an
     * extension isolated in a child JVM, that child stopped (closing stops it). Afterwards nothing in {@code ext}
     * refers to extension classes.
     */
    private Reclamation reclaim(LoadedExtension ext, long startNanos) {
        if (!ext.live().isolated()) {
            // handed straight over: a local variable here would keep the loader alive while it is verified
            return reclaimer.reclaim(detachLoader(ext), startNanos, this::reclamationChanged);
        }
        ext.detach();
        long pid = ext.childStatus().map(ChildStatus::pid).orElse(0L);
        return new Reclamation(ext.manifest().coordinates(), Reclamation.State.COLLECTED,
                (System.nanoTime() - startNanos) / 1_000_000, List.of(),
                List.of("stopped its child JVM (pid " + pid + ")"));
    }

    /** A LEAKED verdict changed later (its path arrived, or the loader was collected after all). */
    private void reclamationChanged(Reclamation changed) {
        String id = changed.coordinates().substring(0, changed.coordinates().lastIndexOf('@'));
        Deque<Reclamation> past = history.computeIfAbsent(id, i -> new ArrayDeque<>());
        Reclamation before = null;
        Reclamation after = null;
        synchronized (past) {
            List<Reclamation> entries = new java.util.ArrayList<>(past);
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i).loaderSerial() == changed.loaderSerial()) {
                    before = entries.get(i);
                    after = withNews(before, changed);
                    entries.set(i, after);
                }
            }
            if (after == null) {
                if (recording.contains(changed.loaderSerial())) { // faster than the unload's bookkeeping
                    earlyNews.put(changed.loaderSerial(), changed);
                }
                return; // or about a verdict the history no longer keeps
            }
            past.clear();
            past.addAll(entries);
            past.notifyAll();
        }
        Reclamation was = before;
        Reclamation is = after;
        if (was.collectedAt() == null && is.collectedAt() != null) {
            LifecycleLog.collectedLater(is);
        }
        listeners.forEach(l -> l.reclamationChanged(was, is));
    }

    /**
     * The verdict as it stands once its leak path is found, or once {@code wait} has passed: the unload itself
     * answers at the verdict, and the heap dump's analysis takes seconds more.
     */
    public Reclamation awaitLeakPath(Reclamation verdict, Duration wait) {
        if (verdict.state() != Reclamation.State.LEAKED || verdict.loaderSerial() == 0 || wait.isZero()) {
            return verdict;
        }
        Deque<Reclamation> past = history.get(verdict.coordinates().substring(0,
                verdict.coordinates().lastIndexOf('@')));
        long deadline = System.nanoTime() + wait.toNanos();
        Reclamation latest = verdict;
        synchronized (past) {
            for (;;) {
                latest = past.stream().filter(r -> r.loaderSerial() == verdict.loaderSerial()).findFirst()
                        .orElse(latest);
                long left = deadline - System.nanoTime();
                if (!latest.awaitsLeakPath() || left <= 0) {
                    return latest;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(past, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return latest;
                }
            }
        }
    }

    /** The verdict as recorded (with the causes the unload itself added), updated with later news. */
    private static Reclamation withNews(Reclamation recorded, Reclamation news) {
        Reclamation updated = recorded.withLeakPath(news.leakPath(), news.leakPathNote());
        return news.collectedAt() != null && recorded.collectedAt() == null
                ? updated.collectedLater(news.collectedAt()) : updated;
    }

    /** Drops the version's live parts and hands over its loader, which is null for an isolated extension. */
    private static ExtensionClassLoader detachLoader(LoadedExtension ext) {
        return ext.detach().loader();
    }

    /** Throws away a version that was loaded but never published. */
    private void discard(LoadedExtension ext) {
        ext.retire();
        closeInstance(ext);
        reclaim(ext, System.nanoTime());
    }

    /** Unloads everything (without waiting for collection); the store keeps it for the next start. */
    @Override
    public void close() {
        storeWriter.shutdown();
        saveCounts();
        synchronized (control) {
            for (LoadedExtension ext : published.byId().values()) {
                publish(null, ext);
                ext.retire();
                closeInstance(ext);
                try {
                    ExtensionClassLoader loader = ext.detach().loader();
                    if (loader != null) {
                        loader.close();
                    }
                } catch (IOException ignored) {
                    // shutting down
                }
            }
        }
    }
}
