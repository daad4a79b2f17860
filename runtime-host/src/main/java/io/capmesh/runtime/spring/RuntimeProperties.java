package io.capmesh.runtime.spring;

import io.capmesh.runtime.RuntimeSettings;
import io.capmesh.runtime.isolation.IsolationSettings;
import io.capmesh.runtime.pkg.PackageReader;
import io.capmesh.runtime.pkg.PackageSweep;
import io.capmesh.runtime.reclaim.LeakPaths;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.TrustedKeys;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code capmesh.runtime.*}: how a runtime service hosts its extensions.
 *
 * @param dataDir            where the extension store and the jars live
 * @param bundled            where the service's own extension jars are (loaded at start when not in the store)
 * @param maxPackageSize     largest extension jar accepted
 * @param maxExpandedSize    largest total size of a jar's entries once inflated
 * @param maxPackageEntries  most entries in one jar
 * @param maxSourceSize      most bytes of Java sources in a source package
 * @param compileTimeout     longest a source package's compile may run
 * @param maxPayloadSize     largest request message
 * @param maxCallTime        longest a call may run, whatever deadline the caller set
 * @param drainTimeout       how long an unload waits for calls in flight
 * @param reclaimWindow      how long an unload waits for the classloader to be collected
 * @param maxConcurrentCalls per extension version
 * @param maxQueuedCalls     per extension version, calls that may wait (within their deadline) for one of those
 * @param idleEviction       hibernate an in-process extension with no call for this long (seen by a sweep every
 *                           quarter of it, so within half as long again); 0: never
 * @param sharedPackages     the tier's shared libraries: package prefixes every extension takes from the host
 * @param extensions         settings per extension id, handed to the extension when it starts
 * @param available          packages offered for loading on demand (tier 2), not loaded at start
 * @param tier               this runtime's tier name, as the broker shows it: core, data, ml, crypto
 * @param broker             the broker to register with; none by default
 * @param signatures         what incoming packages' signatures must be
 * @param isolation          how extensions that ask for process isolation run in their child JVMs
 * @param leakPaths          when a leaked extension's reference path is looked for in a heap dump
 * @param recovery           what a start does after the runtime ended abnormally: crash-loop quarantine, safe mode
 * @param sweep              when package files unused for long go: compiled sources, copies of accepted jars
 */
@ConfigurationProperties("capmesh.runtime")
public record RuntimeProperties(
        @DefaultValue(".capmesh/runtime") Path dataDir,
        @DefaultValue("classpath*:capmesh/extensions/*.jar") String bundled,
        @DefaultValue("64MB") DataSize maxPackageSize,
        @DefaultValue("256MB") DataSize maxExpandedSize,
        @DefaultValue("20000") int maxPackageEntries,
        @DefaultValue("1MB") DataSize maxSourceSize,
        @DefaultValue("20s") Duration compileTimeout,
        @DefaultValue("4MB") DataSize maxPayloadSize,
        @DefaultValue("30s") Duration maxCallTime,
        @DefaultValue("10s") Duration drainTimeout,
        @DefaultValue("2s") Duration reclaimWindow,
        @DefaultValue("1024") int maxConcurrentCalls,
        @DefaultValue("256") int maxQueuedCalls,
        @DefaultValue("0s") Duration idleEviction,
        @DefaultValue List<String> sharedPackages,
        @DefaultValue Map<String, Map<String, String>> extensions,
        @DefaultValue("classpath*:capmesh/available/*.jar") String available,
        @DefaultValue("core") String tier,
        @DefaultValue Broker broker,
        @DefaultValue Signatures signatures,
        @DefaultValue Isolation isolation,
        @DefaultValue LeakPathSettings leakPaths,
        @DefaultValue Recovery recovery,
        @DefaultValue Sweep sweep) {

    /**
     * {@code capmesh.runtime.sweep.*}: the scheduled maintenance of the package files the runtime keeps.
     *
     * @param unusedFor a compiled source package, or a copy of an accepted jar, that no extension has used for this
     *                  long is removed (deployed extensions stay deployed: the store keeps its own copy)
     * @param every     how often to look
     */
    public record Sweep(@DefaultValue("24h") Duration unusedFor, @DefaultValue("6h") Duration every) {
        PackageSweep.Settings toSettings() {
            return new PackageSweep.Settings(unusedFor, every);
        }
    }

    /**
     * {@code capmesh.runtime.recovery.*}.
     *
     * @param quarantineAfter an extension that was loading or had calls in flight at each of this many abnormal ends
     *                        of the runtime in a row (killed, crashed, out of memory) is restored quarantined: kept
     *                        and listed, not loaded, until released; 0: never
     * @param window          how recent those abnormal ends must all be
     * @param safeMode        restore nothing from the store (every stored extension is listed as quarantined for
     *                        this run, and loaded when released); the bundled extensions not stored still load
     */
    public record Recovery(@DefaultValue("3") int quarantineAfter, @DefaultValue("1h") Duration window,
                           @DefaultValue("false") boolean safeMode) {

        RuntimeSettings.Recovery toSettings() {
            return new RuntimeSettings.Recovery(quarantineAfter, window, safeMode);
        }
    }

    /**
     * {@code capmesh.runtime.leak-paths.*}. A heap dump pauses the runtime for a full collection and the write
     * (about a second per 100 MB of live heap), so production takes at most one per {@code min-interval}.
     *
     * @param mode         {@code off}, {@code every-leak} (the local mesh's setting) or {@code rate-limited}
     * @param minInterval  the least time between two dumps when rate-limited
     * @param maxDumpSize  the largest dump: a heap whose live part would not fit is not dumped
     * @param analysisHeap the heap of the child JVM that analyses a dump
     * @param timeout      how long an analysis may take
     */
    public record LeakPathSettings(@DefaultValue("rate-limited") LeakPaths.Mode mode,
                                   @DefaultValue("15m") Duration minInterval,
                                   @DefaultValue("256MB") DataSize maxDumpSize,
                                   @DefaultValue("512MB") DataSize analysisHeap,
                                   @DefaultValue("2m") Duration timeout) {

        /** The dumps' directory is left to the runtime: {@code heap-dumps} in its data directory. */
        LeakPaths.Settings toSettings() {
            return new LeakPaths.Settings(mode, minInterval, maxDumpSize.toBytes(), null,
                    analysisHeap.toMegabytes() + "m", timeout);
        }
    }

    /**
     * {@code capmesh.runtime.isolation.*}. An extension's own {@code isolation.max-heap} setting (under
     * {@code capmesh.runtime.extensions.<id>}) overrides the heap size for its child.
     *
     * @param maxHeap           each child JVM's heap limit ({@code -Xmx})
     * @param jvmOptions        more JVM options for every child
     * @param firstRestartDelay the wait before restarting a child that ended, doubled on each exit in a row
     * @param maxRestartDelay   the longest wait between restarts
     * @param stableAfter       a child that served this long before it ended starts the backoff afresh
     * @param startTimeout      how long a child may take to load its extension and serve
     */
    public record Isolation(@DefaultValue("256MB") DataSize maxHeap, List<String> jvmOptions,
                            @DefaultValue("250ms") Duration firstRestartDelay,
                            @DefaultValue("30s") Duration maxRestartDelay,
                            @DefaultValue("60s") Duration stableAfter,
                            @DefaultValue("60s") Duration startTimeout) {

        IsolationSettings toSettings() {
            return new IsolationSettings(maxHeap.toMegabytes() + "m", jvmOptions == null ? List.of() : jvmOptions,
                    firstRestartDelay, maxRestartDelay, stableAfter, startTimeout);
        }
    }

    /**
     * {@code capmesh.runtime.signatures.*}. The packages the service ships on its class path need no signature.
     *
     * @param policy      {@code off}, {@code verify-if-signed} (the default: unsigned accepted, signed verified) or
     *                    {@code required} (the production setting: every deployed, swapped or restored package
     *                    must be signed by a trusted key)
     * @param trustedKeys public keys to accept signatures from: PEM files, directories of {@code *.pem} files, PEM
     *                    text or base64 DER
     */
    public record Signatures(@DefaultValue("verify-if-signed") SignaturePolicy policy, List<String> trustedKeys) {
        public Signatures {
            trustedKeys = trustedKeys == null ? List.of() : List.copyOf(trustedKeys);
        }

        PackageVerifier verifier() {
            try {
                return new PackageVerifier(policy, TrustedKeys.read(trustedKeys));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("capmesh.runtime.signatures.trusted-keys: " + e.getMessage(), e);
            }
        }
    }

    /**
     * @param address       where the broker's gRPC port is: host:port (a name may resolve to every replica),
     *                      several replicas as host:port,host:port, or a gRPC target such as dns:///name:port;
     *                      empty: do not register
     * @param advertiseHost the host the broker hands to clients for this runtime; empty: this host's own address
     *                      (in a container, the one its network gives it)
     * @param runtimeId     how the broker names this runtime; empty: {@code <application>@<host>:<port>}
     */
    public record Broker(String address, @DefaultValue("127.0.0.1") String advertiseHost, String runtimeId) {
        public boolean enabled() {
            return address != null && !address.isBlank();
        }

        /** {@link #advertiseHost}, or this host's address when that is empty. */
        public String advertisedHost() {
            if (advertiseHost != null && !advertiseHost.isBlank()) {
                return advertiseHost;
            }
            try {
                return InetAddress.getLocalHost().getHostAddress();
            } catch (UnknownHostException e) {
                throw new IllegalStateException("capmesh.runtime.broker.advertise-host is empty and this host's"
                        + " name does not resolve to an address; set it to an address the broker's clients reach", e);
            }
        }
    }

    RuntimeSettings toSettings() {
        return new RuntimeSettings(dataDir,
                new PackageReader.Limits(maxPackageSize.toBytes(), maxExpandedSize.toBytes(), maxPackageEntries,
                        maxSourceSize.toBytes(), compileTimeout),
                Math.toIntExact(maxPayloadSize.toBytes()), maxCallTime, drainTimeout, reclaimWindow,
                maxConcurrentCalls, sharedPackages, extensions, signatures.verifier(), isolation.toSettings(),
                maxQueuedCalls, idleEviction, leakPaths.toSettings(), recovery.toSettings(), sweep.toSettings());
    }
}
