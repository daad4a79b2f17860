package io.capmesh.runtime;

import io.capmesh.runtime.isolation.IsolationSettings;
import io.capmesh.runtime.pkg.PackageReader;
import io.capmesh.runtime.pkg.PackageSweep;
import io.capmesh.runtime.reclaim.LeakPaths;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.TrustedKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How a runtime host is set up.
 *
 * @param dataDirectory      where the store and the jars live
 * @param packageLimits      size limits for incoming packages
 * @param maxPayloadBytes    largest request message
 * @param maxCallTime        longest a call may run, whatever deadline its caller set
 * @param drainTimeout       how long an unload waits for calls in flight
 * @param reclaimWindow      how long an unload waits for the classloader to be collected before calling it a leak
 * @param maxConcurrentCalls per extension version; past it, calls wait in the queue ({@code maxQueuedCalls})
 * @param tierPackages       the tier's shared libraries, resolved from the host by every extension
 * @param settings           operator settings per extension id
 * @param signatures         what an incoming package's signature must be: the policy and the keys it trusts
 * @param isolation          how the child JVMs of extensions that ask for process isolation run
 * @param maxQueuedCalls     per extension version; calls past {@code maxConcurrentCalls} that may wait for a permit
 *                           (each until its deadline); past it, calls are refused with RESOURCE_EXHAUSTED; 0: none
 * @param idleEviction       an in-process extension with no call for this long is hibernated (unloaded, kept deployed,
 *                           reloaded by its next call); zero: never
 * @param leakPaths          when a leak's reference path is looked for in a heap dump; off when null
 * @param recovery           what a start does after abnormal ends, and whether it restores the store at all
 * @param sweep              when package files unused for long (compiled sources, copies of accepted jars) go
 */
public record RuntimeSettings(
        Path dataDirectory,
        PackageReader.Limits packageLimits,
        int maxPayloadBytes,
        Duration maxCallTime,
        Duration drainTimeout,
        Duration reclaimWindow,
        int maxConcurrentCalls,
        List<String> tierPackages,
        Map<String, Map<String, String>> settings,
        PackageVerifier signatures,
        IsolationSettings isolation,
        int maxQueuedCalls,
        Duration idleEviction,
        LeakPaths.Settings leakPaths,
        Recovery recovery,
        PackageSweep.Settings sweep) {

    public static final int DEFAULT_MAX_QUEUED_CALLS = 256;

    /**
     * What a start does about crash loops.
     *
     * @param quarantineAfter an extension that was loading or had calls in flight at each of this many abnormal ends
     *                        in a row, within {@code window}, is restored as quarantined (kept, not loaded); 0: never
     * @param window          how far back those abnormal ends may lie
     * @param safeMode        restore nothing from the store: every stored extension is kept, listed as quarantined
     *                        for this run, and loaded only when released
     */
    public record Recovery(int quarantineAfter, Duration window, boolean safeMode) {
        public static final Recovery DEFAULT = new Recovery(3, Duration.ofHours(1), false);

        public Recovery {
            if (quarantineAfter < 0 || quarantineAfter > 32) {
                throw new IllegalArgumentException("quarantine-after must be from 0 (never) to 32; got "
                        + quarantineAfter);
            }
        }
    }

    /** Signed packages are verified, unsigned ones accepted: fit for development, not for production. */
    public static final PackageVerifier DEFAULT_SIGNATURES =
            new PackageVerifier(SignaturePolicy.VERIFY_IF_SIGNED, TrustedKeys.NONE);

    public RuntimeSettings {
        tierPackages = List.copyOf(tierPackages);
        settings = Map.copyOf(settings);
        signatures = signatures == null ? DEFAULT_SIGNATURES : signatures;
        isolation = isolation == null ? IsolationSettings.DEFAULT : isolation;
        idleEviction = idleEviction == null ? Duration.ZERO : idleEviction;
        leakPaths = leakPaths == null ? LeakPaths.Settings.off() : leakPaths;
        recovery = recovery == null ? Recovery.DEFAULT : recovery;
        sweep = sweep == null ? PackageSweep.Settings.DEFAULT : sweep;
        if (maxQueuedCalls < 0 || (long) maxConcurrentCalls + maxQueuedCalls > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("max-queued-calls must be at least 0, and with max-concurrent-calls at"
                    + " most " + Integer.MAX_VALUE / 2 + "; got " + maxQueuedCalls + " and " + maxConcurrentCalls);
        }
    }

    public RuntimeSettings(Path dataDirectory, PackageReader.Limits packageLimits, int maxPayloadBytes,
                           Duration maxCallTime, Duration drainTimeout, Duration reclaimWindow, int maxConcurrentCalls,
                           List<String> tierPackages, Map<String, Map<String, String>> settings,
                           PackageVerifier signatures, IsolationSettings isolation) {
        this(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings, signatures, isolation, DEFAULT_MAX_QUEUED_CALLS,
                Duration.ZERO, null, null, null);
    }

    public RuntimeSettings(Path dataDirectory, PackageReader.Limits packageLimits, int maxPayloadBytes,
                           Duration maxCallTime, Duration drainTimeout, Duration reclaimWindow, int maxConcurrentCalls,
                           List<String> tierPackages, Map<String, Map<String, String>> settings,
                           PackageVerifier signatures) {
        this(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings, signatures, IsolationSettings.DEFAULT);
    }

    public RuntimeSettings(Path dataDirectory, PackageReader.Limits packageLimits, int maxPayloadBytes,
                           Duration maxCallTime, Duration drainTimeout, Duration reclaimWindow, int maxConcurrentCalls,
                           List<String> tierPackages, Map<String, Map<String, String>> settings) {
        this(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings, DEFAULT_SIGNATURES, IsolationSettings.DEFAULT);
    }

    public static RuntimeSettings defaults(Path dataDirectory) {
        return new RuntimeSettings(dataDirectory, PackageReader.Limits.DEFAULT, 4 << 20, Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofSeconds(2), 1024, List.of(), Map.of());
    }

    public RuntimeSettings withMaxCallTime(Duration value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, value, drainTimeout, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings, signatures, isolation, maxQueuedCalls, idleEviction, leakPaths, recovery, sweep);
    }

    public RuntimeSettings withDrainTimeout(Duration value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, value, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings, signatures, isolation, maxQueuedCalls, idleEviction, leakPaths, recovery, sweep);
    }

    public RuntimeSettings withPackageLimits(PackageReader.Limits value) {
        return new RuntimeSettings(dataDirectory, value, maxPayloadBytes, maxCallTime, drainTimeout, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings, signatures, isolation, maxQueuedCalls, idleEviction, leakPaths, recovery, sweep);
    }

    public RuntimeSettings withSignatures(PackageVerifier value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrentCalls, tierPackages, settings, value, isolation,
                maxQueuedCalls, idleEviction, leakPaths, recovery, sweep);
    }

    public RuntimeSettings withSettings(Map<String, Map<String, String>> value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrentCalls, tierPackages, value, signatures, isolation,
                maxQueuedCalls, idleEviction, leakPaths, recovery, sweep);
    }

    public RuntimeSettings withIsolation(IsolationSettings value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrentCalls, tierPackages, settings, signatures, value,
                maxQueuedCalls, idleEviction, leakPaths, recovery, sweep);
    }

    /** @param maxConcurrent calls running at once per extension version; @param maxQueued calls waiting past that */
    public RuntimeSettings withCallLimits(int maxConcurrent, int maxQueued) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrent, tierPackages, settings, signatures, isolation, maxQueued, idleEviction, leakPaths, recovery, sweep);
    }

    public RuntimeSettings withIdleEviction(Duration value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrentCalls, tierPackages, settings, signatures, isolation, maxQueuedCalls,
                value, leakPaths, recovery, sweep);
    }

    public RuntimeSettings withLeakPaths(LeakPaths.Settings value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrentCalls, tierPackages, settings, signatures, isolation, maxQueuedCalls,
                idleEviction, value, recovery, sweep);
    }

    public RuntimeSettings withRecovery(Recovery value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrentCalls, tierPackages, settings, signatures, isolation, maxQueuedCalls,
                idleEviction, leakPaths, value, sweep);
    }

    public RuntimeSettings withSweep(PackageSweep.Settings value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, drainTimeout,
                reclaimWindow, maxConcurrentCalls, tierPackages, settings, signatures, isolation, maxQueuedCalls,
                idleEviction, leakPaths, recovery, value);
    }
}
