package io.capmesh.broker.registry;

import io.capmesh.broker.acquire.Timestamps;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.Tier;
import io.capmesh.proto.v1.WatchEvent;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Clock;
import java.util.Collection;
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

    private final Clock clock;
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();

    public WatchHub(RuntimeRegistry registry, Clock clock) {
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

    /**
     * A runtime's state changing is news to every watcher; a capability name is added or removed when it is in the
     * catalog after the read of the store and was not before, or the reverse, whichever runtimes changed at once.
     */
    private void changed(RuntimeRegistry.Changes changes) {
        for (RuntimeRegistry.Change change : changes.each()) {
            ServingState before = change.before() == null ? ServingState.NOT_SERVING
                    : change.before().effectiveState();
            ServingState after = change.after() == null ? ServingState.NOT_SERVING : change.after().effectiveState();
            if (before != after) {
                RuntimeRegistry.Runtime runtime = change.after() != null ? change.after() : change.before();
                send(null, WatchEvent.newBuilder().setRuntimeHealth(RuntimeHealth.newBuilder()
                        .setRuntimeId(runtime.id()).setRuntimeTier(runtime.tier()).setEndpoint(runtime.endpoint())
                        .setState(after).setLastHeartbeat(Timestamps.of(runtime.lastHeartbeat()))));
            }
        }
        Set<String> had = names(changes.before().all());
        Set<String> has = names(changes.after().all());
        for (CatalogEntry entry : Catalog.of(changes.after().all(), "", Tier.TIER_UNSPECIFIED, false)) {
            if (!had.contains(entry.getName())) {
                send(entry.getName(), WatchEvent.newBuilder().setCapabilityAdded(entry));
            }
        }
        for (String name : had) {
            if (!has.contains(name)) {
                send(name, WatchEvent.newBuilder().setCapabilityRemoved(CatalogEntry.newBuilder().setName(name)));
            }
        }
    }

    private static Set<String> names(Collection<RuntimeRegistry.Runtime> runtimes) {
        Set<String> names = new HashSet<>();
        runtimes.forEach(runtime -> runtime.offers().forEach(offer -> names.add(offer.getCapability().getName())));
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
