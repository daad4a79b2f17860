package io.capmesh.broker.registry;

import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.ServingState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Every runtime the broker knows, rebuilt from registrations and heartbeats (soft state: after a broker restart
 * runtimes re-register within one heartbeat interval). A runtime silent for longer than {@code unhealthyAfter}
 * is unhealthy and gets no new leases; silent for {@code dropAfter}, it is forgotten.
 */
public final class RuntimeRegistry {

    /**
     * A runtime as last heard from.
     *
     * @param state     from its heartbeats: SERVING, NOT_SERVING (it said so) or UNKNOWN_STATE (it went silent)
     * @param reachable whether its last health probe answered SERVING (true until probed)
     */
    public record Runtime(String id, String tier, Endpoint endpoint, List<CapabilityOffer> offers,
                          ServingState state, boolean reachable, Instant lastHeartbeat) {

        public Runtime {
            offers = List.copyOf(offers);
        }

        public boolean healthy() {
            return state == ServingState.SERVING && reachable;
        }

        /** What clients are told: its heartbeat state, unless its health probe says it does not serve. */
        public ServingState effectiveState() {
            return state == ServingState.SERVING && !reachable ? ServingState.NOT_SERVING : state;
        }

        Runtime with(List<CapabilityOffer> newOffers, ServingState newState, Instant at) {
            return new Runtime(id, tier, endpoint, newOffers, newState, reachable, at);
        }
    }

    /** A change worth telling watchers about: a runtime appeared, changed state or offers, or left. */
    public record Change(Runtime before, Runtime after) {
    }

    private final Map<String, Runtime> runtimes = new ConcurrentHashMap<>();
    private final List<Consumer<Change>> listeners = new CopyOnWriteArrayList<>();
    private final Clock clock;
    private final Duration unhealthyAfter;
    private final Duration dropAfter;

    public RuntimeRegistry(Clock clock, Duration unhealthyAfter, Duration dropAfter) {
        this.clock = clock;
        this.unhealthyAfter = unhealthyAfter;
        this.dropAfter = dropAfter;
    }

    public void onChange(Consumer<Change> listener) {
        listeners.add(listener);
    }

    public void register(String id, String tier, Endpoint endpoint, List<CapabilityOffer> offers) {
        Runtime after = new Runtime(id, tier, endpoint, offers, ServingState.SERVING, true, clock.instant());
        notify(runtimes.put(id, after), after);
    }

    /** @return false when the runtime is unknown (the broker restarted or dropped it): it must register again */
    public boolean heartbeat(String id, ServingState state, List<CapabilityOffer> offers) {
        Runtime[] change = new Runtime[2];
        runtimes.computeIfPresent(id, (key, before) -> {
            change[0] = before;
            change[1] = before.with(offers, state, clock.instant());
            return change[1];
        });
        if (change[1] == null) {
            return false;
        }
        notify(change[0], change[1]);
        return true;
    }

    public void deregister(String id) {
        Runtime before = runtimes.remove(id);
        if (before != null) {
            notify(before, null);
        }
    }

    /** Marks runtimes that went silent unhealthy, and forgets those silent for too long. */
    public void sweep() {
        Instant now = clock.instant();
        for (Runtime runtime : List.copyOf(runtimes.values())) {
            Duration silence = Duration.between(runtime.lastHeartbeat(), now);
            if (silence.compareTo(dropAfter) > 0) {
                if (runtimes.remove(runtime.id(), runtime)) {
                    notify(runtime, null);
                }
            } else if (silence.compareTo(unhealthyAfter) > 0 && runtime.healthy()) {
                Runtime silent = runtime.with(runtime.offers(), ServingState.UNKNOWN_STATE, runtime.lastHeartbeat());
                if (runtimes.replace(runtime.id(), runtime, silent)) {
                    notify(runtime, silent);
                }
            }
        }
    }

    /** Records what a runtime's health probe answered. */
    public void probed(String id, boolean serving) {
        Runtime[] change = new Runtime[2];
        runtimes.computeIfPresent(id, (key, before) -> {
            change[0] = before;
            change[1] = new Runtime(before.id(), before.tier(), before.endpoint(), before.offers(), before.state(),
                    serving, before.lastHeartbeat());
            return change[1];
        });
        if (change[1] != null) {
            notify(change[0], change[1]);
        }
    }

    /** Records that a runtime has just loaded something (before its next heartbeat says so). */
    public void updateOffers(String id, List<CapabilityOffer> offers) {
        Runtime[] change = new Runtime[2];
        runtimes.computeIfPresent(id, (key, before) -> {
            change[0] = before;
            change[1] = before.with(offers, before.state(), before.lastHeartbeat());
            return change[1];
        });
        if (change[1] != null) {
            notify(change[0], change[1]);
        }
    }

    public Collection<Runtime> all() {
        return List.copyOf(runtimes.values());
    }

    public Optional<Runtime> get(String id) {
        return Optional.ofNullable(runtimes.get(id));
    }

    private void notify(Runtime before, Runtime after) {
        if (before != null && after != null && before.effectiveState() == after.effectiveState()
                && before.offers().equals(after.offers())) {
            return; // a heartbeat that changed nothing is not news
        }
        Change change = new Change(before, after);
        listeners.forEach(listener -> listener.accept(change));
    }

    /** Every healthy runtime's offers of one capability. */
    public List<Placement> placements(String capability) {
        List<Placement> placements = new ArrayList<>();
        for (Runtime runtime : runtimes.values()) {
            for (CapabilityOffer offer : runtime.offers()) {
                if (offer.getCapability().getName().equals(capability)) {
                    placements.add(new Placement(runtime, offer));
                }
            }
        }
        return placements;
    }

    /** One runtime's offer of one capability. */
    public record Placement(Runtime runtime, CapabilityOffer offer) {
    }
}
