package io.capmesh.runtime.loader;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.exitguard.ExitGate;
import io.capmesh.runtime.HostServices;
import io.capmesh.runtime.Problem;
import io.capmesh.runtime.isolation.ProcessIsolation;
import io.capmesh.runtime.pkg.ClassFileScanner;
import io.capmesh.runtime.pkg.ExtensionManifest;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Turns a checked package into a started extension: a classloader of its own, the entry class instantiated,
 * {@code start} run (the warm-up) and its typed services built, all before any traffic can reach it. When any
 * step fails, everything it made is closed again and the answer lists every error found. An extension that asks
 * for process isolation is handed to {@link ProcessIsolation} instead, which runs it in a child JVM.
 */
public final class ExtensionLoader {

    /** Packages every extension resolves from the host: the SPI, gRPC and protobuf. */
    public static final List<String> CANONICAL_PACKAGES =
            List.of("io.capmesh.extension.api.", "io.grpc.", "com.google.protobuf.");

    private final ClassLoader hostLoader;
    private final List<String> sharedPackages;
    private final Map<String, Map<String, String>> settingsById;
    private final int maxConcurrentCalls;
    private final int maxQueuedCalls;
    private final HostServices hostServices;
    private final Clock clock;
    private final ProcessIsolation isolation;
    private volatile Consumer<ExitGate.Attempt> exits = attempt -> { };

    /**
     * @param tierPackages       the tier's own shared libraries (package prefixes ending in a dot)
     * @param settingsById       operator settings per extension id
     * @param maxConcurrentCalls per extension version
     */
    public ExtensionLoader(ClassLoader hostLoader, List<String> tierPackages,
                           Map<String, Map<String, String>> settingsById, int maxConcurrentCalls,
                           HostServices hostServices, Clock clock) {
        this(hostLoader, tierPackages, settingsById, maxConcurrentCalls, hostServices, clock, null);
    }

    /** @param isolation runs the extensions that ask for process isolation; null refuses them */
    public ExtensionLoader(ClassLoader hostLoader, List<String> tierPackages,
                           Map<String, Map<String, String>> settingsById, int maxConcurrentCalls,
                           HostServices hostServices, Clock clock, ProcessIsolation isolation) {
        this(hostLoader, tierPackages, settingsById, maxConcurrentCalls, 0, hostServices, clock, isolation);
    }

    /** What every extension of a tier resolves from the host: the canonical packages and the tier's. */
    public static List<String> sharedPackages(List<String> tierPackages) {
        List<String> shared = new ArrayList<>(CANONICAL_PACKAGES);
        shared.addAll(tierPackages);
        return List.copyOf(shared);
    }

    /** @param maxQueuedCalls per extension version, calls that may wait for a permit when all are taken */
    public ExtensionLoader(ClassLoader hostLoader, List<String> tierPackages,
                           Map<String, Map<String, String>> settingsById, int maxConcurrentCalls, int maxQueuedCalls,
                           HostServices hostServices, Clock clock, ProcessIsolation isolation) {
        this.maxQueuedCalls = maxQueuedCalls;
        this.isolation = isolation;
        this.hostLoader = hostLoader;
        this.sharedPackages = sharedPackages(tierPackages);
        this.settingsById = Map.copyOf(settingsById);
        this.maxConcurrentCalls = maxConcurrentCalls;
        this.hostServices = hostServices;
        this.clock = clock;
    }

    /** Where the exits refused to the code of the extensions this loads go (see ExitContainment). */
    public void onBlockedExit(Consumer<ExitGate.Attempt> exits) {
        this.exits = exits;
    }

    public LoadedExtension load(ExtensionPackage pkg) {
        long started = System.nanoTime();
        ExtensionManifest manifest = pkg.manifest();
        if (manifest.processIsolation()) {
            pkg.classes().release(); // the child JVM reads the jar
            if (isolation == null) {
                throw Problem.precondition(manifest.coordinates() + " asks for process isolation, which this "
                        + "loader does not offer; deploy it with \"isolation\": \"in-process\"").toException();
            }
            return isolation.load(pkg).queueing(maxQueuedCalls);
        }
        ExtensionClassLoader loader = new ExtensionClassLoader(manifest.coordinates(), pkg.jar(), hostLoader,
                sharedPackages, pkg.classes(), attempt -> exits.accept(attempt));
        Extension instance = null;
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            Class<?> entry = entryClass(loader, manifest, pkg);
            instance = (Extension) entry.getConstructor().newInstance();
            instance.start(context(manifest));
            List<ServerServiceDefinition> services = List.copyOf(instance.services());
            long micros = (System.nanoTime() - started) / 1_000;
            return new LoadedExtension(pkg, new LoadedExtension.Live(loader, instance, services),
                    clock.instant(), maxConcurrentCalls, micros).queueing(maxQueuedCalls);
        } catch (Problem.ProblemException e) {
            discard(instance, loader);
            throw e;
        } catch (VirtualMachineError e) {
            discard(instance, loader);
            throw e;
        } catch (Throwable e) {
            discard(instance, loader);
            throw Problem.precondition(manifest.coordinates() + " (" + pkg.source()
                    + ") failed to load: " + String.join(" <- ", errorChain(e))).toException();
        } finally {
            pkg.classes().release(); // later classes come from the jar
            thread.setContextClassLoader(previous);
        }
    }

    private Class<?> entryClass(ExtensionClassLoader loader, ExtensionManifest manifest, ExtensionPackage pkg) {
        String where = manifest.coordinates() + " (" + pkg.source() + ")";
        Class<?> entry;
        try {
            entry = Class.forName(manifest.entryClass(), false, loader);
        } catch (ClassNotFoundException e) {
            throw Problem.precondition(where + ": entry class " + manifest.entryClass()
                    + " is not in the jar").toException();
        } catch (LinkageError e) {
            throw Problem.precondition(where + ": entry class " + manifest.entryClass() + " cannot be linked: "
                    + String.join(" <- ", errorChain(e))).toException();
        }
        if (!Extension.class.isAssignableFrom(entry)) {
            throw Problem.precondition(where + ": entry class " + manifest.entryClass() + " does not implement "
                    + Extension.class.getName()).toException();
        }
        Set<String> missing = missingReferences(loader, manifest.entryClass());
        if (!missing.isEmpty()) {
            throw Problem.precondition(where + ": " + missing.size() + " class(es) that "
                    + manifest.entryClass() + " needs cannot be loaded: " + String.join(", ", missing))
                    .toException();
        }
        return entry;
    }

    /** Every class the entry class refers to that cannot be loaded, each with the reason. */
    private static Set<String> missingReferences(ExtensionClassLoader loader, String entryClass) {
        Set<String> missing = new LinkedHashSet<>();
        try (InputStream in = loader.getResourceAsStream(entryClass.replace('.', '/') + ".class")) {
            if (in == null) {
                return missing;
            }
            for (String internal : ClassFileScanner.scan(in.readAllBytes()).classes()) {
                if (internal.startsWith("[")) {
                    continue;
                }
                String name = internal.replace('/', '.');
                try {
                    Class.forName(name, false, loader);
                } catch (ClassNotFoundException e) {
                    missing.add(name + " (not in the jar)");
                } catch (LinkageError e) {
                    missing.add(name + " (" + e + ")");
                }
            }
        } catch (IOException e) {
            missing.add(entryClass + " is not a readable class file: " + e.getMessage());
        }
        return missing;
    }

    private ExtensionContext context(ExtensionManifest manifest) {
        Map<String, String> settings = settingsById.getOrDefault(manifest.id(), Map.of());
        return new ExtensionContext() {
            @Override
            public String id() {
                return manifest.id();
            }

            @Override
            public String version() {
                return manifest.version();
            }

            @Override
            public Map<String, String> settings() {
                return settings;
            }

            @Override
            public <T> java.util.Optional<T> hostService(Class<T> type, String name) {
                return hostServices.find(type, name);
            }
        };
    }

    private static void discard(Extension instance, ExtensionClassLoader loader) {
        if (instance != null) {
            try {
                instance.close();
            } catch (Throwable ignored) {
                // the load already failed; its first error is the one worth reporting
            }
        }
        try {
            loader.close();
        } catch (IOException ignored) {
            // nothing more can be done for a loader that would not close its jar
        }
    }

    /** "Type: message" for an error and each of its causes and suppressed errors. */
    static List<String> errorChain(Throwable error) {
        List<String> chain = new ArrayList<>();
        Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof java.lang.reflect.InvocationTargetException) {
                continue;
            }
            chain.add(t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage()));
            for (Throwable s : t.getSuppressed()) {
                chain.add("suppressed " + s);
            }
        }
        return chain;
    }
}
