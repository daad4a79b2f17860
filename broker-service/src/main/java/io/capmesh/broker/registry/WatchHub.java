package io.capmesh.broker.registry;

import io.capmesh.broker.acquire.Timestamps;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.Tier;
import io.capmesh.proto.v1.WatchEvent;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Streams catalog and health transitions to watchers: a runtime's state changing (or the runtime appearing or
 * leaving), and a capability name appearing in or leaving the catalog. Heartbeats that change nothing send
 * nothing.
 */
public final class WatchHub {

    private record Watcher(String prefix, ServerCallStreamObserver<WatchEvent> stream) {
    }

    private final RuntimeRegistry registry;
    private final Clock clock;
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();

    public WatchHub(RuntimeRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        registry.onChange(this::changed);
    }

    public void watch(String prefix, ServerCallStreamObserver<WatchEvent> stream) {
        Watcher watcher = new Watcher(prefix, stream);
        stream.setOnCancelHandler(() -> watchers.remove(watcher));
        watchers.add(watcher);
    }

    public int watching() {
        return watchers.size();
    }

    private void changed(RuntimeRegistry.Change change) {
        ServingState before = change.before() == null ? ServingState.NOT_SERVING : change.before().effectiveState();
        ServingState after = change.after() == null ? ServingState.NOT_SERVING : change.after().effectiveState();
        if (before != after) {
            RuntimeRegistry.Runtime runtime = change.after() != null ? change.after() : change.before();
            send(null, WatchEvent.newBuilder().setRuntimeHealth(RuntimeHealth.newBuilder()
                    .setRuntimeId(runtime.id()).setRuntimeTier(runtime.tier()).setEndpoint(runtime.endpoint())
                    .setState(after).setLastHeartbeat(Timestamps.of(runtime.lastHeartbeat()))));
        }
        Set<String> had = names(change.before());
        Set<String> has = names(change.after());
        Set<String> offeredElsewhere = new HashSet<>();
        String id = change.after() != null ? change.after().id() : change.before().id();
        registry.all().stream().filter(r -> !r.id().equals(id)).forEach(r -> offeredElsewhere.addAll(names(r)));
        for (String name : has) {
            if (!had.contains(name) && !offeredElsewhere.contains(name)) {
                send(name, WatchEvent.newBuilder().setCapabilityAdded(entry(name, change.after())));
            }
        }
        for (String name : had) {
            if (!has.contains(name) && !offeredElsewhere.contains(name)) {
                send(name, WatchEvent.newBuilder().setCapabilityRemoved(CatalogEntry.newBuilder().setName(name)));
            }
        }
    }

    private static CatalogEntry entry(String name, RuntimeRegistry.Runtime runtime) {
        return Catalog.of(List.of(runtime), name, Tier.TIER_UNSPECIFIED, false).stream()
                .filter(e -> e.getName().equals(name)).findFirst()
                .orElse(CatalogEntry.newBuilder().setName(name).build());
    }

    private static Set<String> names(RuntimeRegistry.Runtime runtime) {
        Set<String> names = new HashSet<>();
        if (runtime != null) {
            for (CapabilityOffer offer : runtime.offers()) {
                names.add(offer.getCapability().getName());
            }
        }
        return names;
    }

    /** @param name the capability the event is about, or null for an event every watcher gets */
    private void send(String name, WatchEvent.Builder event) {
        WatchEvent built = event.setAt(Timestamps.of(clock.instant())).build();
        for (Watcher watcher : watchers) {
            if (name == null || name.startsWith(watcher.prefix())) {
                synchronized (watcher) { // one stream must not be written from two threads at once
                    if (!watcher.stream().isCancelled()) {
                        watcher.stream().onNext(built);
                    }
                }
            }
        }
    }
}
