package io.capmesh.stub;

import io.capmesh.proto.v1.Tier;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * One capability in the broker's catalog.
 *
 * @param name              dotted name, e.g. {@code core.json}
 * @param versions          the versions offered
 * @param loaded            whether some replica serves it now; if not, a runtime loads it when it is acquired
 * @param estimatedLoadTime what loading it on demand is expected to take (zero when loaded or never measured)
 * @param replicas          the runtimes offering it, as {@code host:port}
 */
public record CatalogEntry(String name, List<String> versions, boolean loaded, Duration estimatedLoadTime,
                           List<String> replicas) {

    static CatalogEntry of(io.capmesh.proto.v1.CatalogEntry entry) {
        return new CatalogEntry(entry.getName(), List.copyOf(entry.getVersionsList()),
                entry.getTier() == Tier.TIER_LOADED, Duration.of(entry.getEstimatedLoadMicros(), ChronoUnit.MICROS),
                entry.getReplicasList().stream().map(e -> Replicas.address(e.getHost(), e.getPort())).toList());
    }
}
