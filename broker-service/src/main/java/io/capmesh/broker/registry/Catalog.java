package io.capmesh.broker.registry;

import io.capmesh.broker.routing.VersionMatch;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.Dependency;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.Tier;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The catalog: what the known runtimes offer, one entry per capability name. */
public final class Catalog {

    private Catalog() {
    }

    /**
     * @param prefix      only names starting with it (empty: all)
     * @param tier        only capabilities with this tier somewhere (unspecified: all)
     * @param healthyOnly only offers of healthy runtimes
     */
    public static List<CatalogEntry> of(Iterable<RuntimeRegistry.Runtime> runtimes, String prefix, Tier tier,
                                        boolean healthyOnly) {
        Map<String, List<RuntimeRegistry.Placement>> byName = new TreeMap<>();
        for (RuntimeRegistry.Runtime runtime : runtimes) {
            if (healthyOnly && !runtime.healthy()) {
                continue;
            }
            for (CapabilityOffer offer : runtime.offers()) {
                String name = offer.getCapability().getName();
                if (name.startsWith(prefix)) {
                    byName.computeIfAbsent(name, n -> new ArrayList<>()).add(new RuntimeRegistry.Placement(runtime, offer));
                }
            }
        }
        List<CatalogEntry> entries = new ArrayList<>();
        byName.forEach((name, placements) -> {
            CatalogEntry entry = entry(name, placements);
            if (tier == Tier.TIER_UNSPECIFIED || tier == Tier.UNRECOGNIZED || entry.getTier() == tier) {
                entries.add(entry);
            }
        });
        return entries;
    }

    private static CatalogEntry entry(String name, List<RuntimeRegistry.Placement> placements) {
        boolean loaded = placements.stream().anyMatch(p -> p.offer().getTier() == Tier.TIER_LOADED);
        long estimate = loaded ? 0 : placements.stream().mapToLong(p -> p.offer().getLoadMicros())
                .filter(micros -> micros > 0).min().orElse(0);
        Set<String> versions = new LinkedHashSet<>(VersionMatch.newestFirst(
                placements.stream().map(p -> p.offer().getCapability().getVersion()).distinct().toList()));
        Map<String, Dependency> dependencies = new TreeMap<>();
        placements.forEach(p -> p.offer().getDependenciesList().forEach(d -> dependencies.put(d.getCapability(), d)));
        Map<String, Endpoint> replicas = new TreeMap<>();
        placements.forEach(p -> replicas.put(p.runtime().id(), p.runtime().endpoint()));
        return CatalogEntry.newBuilder()
                .setName(name)
                .addAllVersions(versions)
                .setTier(loaded ? Tier.TIER_LOADED : Tier.TIER_LOADABLE)
                .setEstimatedLoadMicros(estimate)
                .addAllDependencies(dependencies.values())
                .addAllReplicas(replicas.values())
                .build();
    }
}
