package io.capmesh.runtime;

import io.capmesh.runtime.pkg.PackageReader;
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
 * @param maxConcurrentCalls per extension version; past it, calls are refused with RESOURCE_EXHAUSTED
 * @param tierPackages       the tier's shared libraries, resolved from the host by every extension
 * @param settings           operator settings per extension id
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
        Map<String, Map<String, String>> settings) {

    public RuntimeSettings {
        tierPackages = List.copyOf(tierPackages);
        settings = Map.copyOf(settings);
    }

    public static RuntimeSettings defaults(Path dataDirectory) {
        return new RuntimeSettings(dataDirectory, PackageReader.Limits.DEFAULT, 4 << 20, Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofSeconds(2), 1024, List.of(), Map.of());
    }

    public RuntimeSettings withMaxCallTime(Duration value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, value, drainTimeout, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings);
    }

    public RuntimeSettings withDrainTimeout(Duration value) {
        return new RuntimeSettings(dataDirectory, packageLimits, maxPayloadBytes, maxCallTime, value, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings);
    }

    public RuntimeSettings withPackageLimits(PackageReader.Limits value) {
        return new RuntimeSettings(dataDirectory, value, maxPayloadBytes, maxCallTime, drainTimeout, reclaimWindow,
                maxConcurrentCalls, tierPackages, settings);
    }
}
