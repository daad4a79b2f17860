package io.capmesh.broker.registry;

import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.ServingState;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Every runtime the mesh knows, as one view shared by every broker replica: registrations and heartbeats are
 * written to the broker's store by whichever replica hears them, and each replica keeps a copy of the store's rows
 * that it reads again whenever the store's revision moves ({@link #refresh}, called after each change it makes and
 * every poll interval). So every replica answers List, Acquire, Health and Watch from the same runtimes, in the
 * same states, and routes from the same membership.
 *
 * <p>The rows are soft state: a runtime silent for longer than {@code unhealthyAfter} is marked unhealthy and
 * gets no new leases; silent for {@code dropAfter}, it is forgotten. A replica whose copy could not be read again
 * for longer than {@code staleAfter} refuses to answer from it ({@link #requireCurrent}).
 */
public final class RuntimeRegistry {

    /**
     * A runtime as last heard from.
     *
     * @param state     from its heartbeats: SERVING, NOT_SERVING (it said so) or UNKNOWN_STATE (it went silent)
     * @param reachable whether its last health probe answered SERVING (true until probed)
     * @param heardBy   the broker replica that heard its last heartbeat, which also probes its health
     */
    public record Runtime(String id, String tier, Endpoint endpoint, List<CapabilityOffer> offers,
                          ServingState state, boolean reachable, Instant lastHeartbeat, String heardBy) {

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

        /** What the runtime registered as, with these offers: the row's registration column. */
        RegisterRequest registration(List<CapabilityOffer> withOffers) {
            return RegisterRequest.newBuilder().setRuntimeId(id).setRuntimeTier(tier).setEndpoint(endpoint)
                    .addAllOffers(withOffers).build();
        }

        Runtime heard(List<CapabilityOffer> newOffers, ServingState newState, Instant at, String by) {
            return new Runtime(id, tier, endpoint, newOffers, newState, reachable, at, by);
        }

        /** Whether clients would be told anything different from {@code other}. */
        boolean sameNews(Runtime other) {
            return effectiveState() == other.effectiveState() && offers.equals(other.offers)
                    && endpoint.equals(other.endpoint);
        }
    }

    /** A change worth telling watchers about: a runtime appeared, changed state or offers, or left. */
    public record Change(Runtime before, Runtime after) {
    }

    /**
     * What one read of the store changed: the views before and after, and each runtime's change between them (a
     * read may bring several, made by several replicas).
     */
    public record Changes(View before, View after, List<Change> each) {
    }

    /**
     * The registry at one revision of the store: every runtime, and what they offer. An acquire routes from one view
     * throughout, so its answer's revision is the one it was routed from.
     */
    public record View(long revision, Map<String, Runtime> runtimes) {

        static final View EMPTY = new View(-1, Map.of());

        public Collection<Runtime> all() {
            return runtimes.values();
        }

        /** Every runtime's offers of one capability. */
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
    }

    private final RuntimeStore store;
    private final List<Consumer<Changes>> listeners = new CopyOnWriteArrayList<>();
    private final Clock clock;
    private final Duration unhealthyAfter;
    private final Duration dropAfter;
    private final Duration staleAfter;
    private final String self;
    private volatile View view = View.EMPTY;
    /** When the store last answered a refresh (System.nanoTime), or 0 before the first. */
    private volatile long currentAt;

    /**
     * Sweeps the store's registry and reads it at once: a replica that has started answers from the mesh's state,
     * never from an empty view, and never from runtimes that went silent while no replica ran.
     *
     * @param self       this replica's name, recorded with the runtimes it hears
     * @param staleAfter how long this replica may answer from a copy the store could not refresh
     */
    public RuntimeRegistry(RuntimeStore store, Clock clock, Duration unhealthyAfter, Duration dropAfter,
                           Duration staleAfter, String self) {
        this.store = store;
        this.clock = clock;
        this.unhealthyAfter = unhealthyAfter;
        this.dropAfter = dropAfter;
        this.staleAfter = staleAfter;
        this.self = Objects.requireNonNull(self, "self");
        sweep();
        refresh();
    }

    public void onChange(Consumer<Changes> listener) {
        listeners.add(listener);
    }

    public void register(String id, String tier, Endpoint endpoint, List<CapabilityOffer> offers) {
        store.put(new Runtime(id, tier, endpoint, offers, ServingState.SERVING, true, clock.instant(), self));
        refresh();
    }

    /** @return false when the runtime is unknown (never registered, or forgotten): it must register again */
    public boolean heartbeat(String id, ServingState state, List<CapabilityOffer> offers) {
        Instant now = clock.instant();
        Runtime known = view.runtimes().get(id);
        if (known != null && known.state() == state && known.offers().equals(offers)
                && store.touch(id, state, now, self)) {
            return true;
        }
        Runtime heard = known != null ? known.heard(offers, state, now, self) : null;
        if (heard == null) {
            // not in this replica's copy yet (registered through another a moment ago): the store decides
            refresh();
            Runtime fresh = view.runtimes().get(id);
            if (fresh == null) {
                return false;
            }
            heard = fresh.heard(offers, state, now, self);
        }
        if (!store.rewrite(heard)) {
            return false;
        }
        refresh();
        return true;
    }

    public void deregister(String id) {
        if (store.delete(id)) {
            refresh();
        }
    }

    /** Marks runtimes that went silent unhealthy, and forgets those silent for too long. */
    public void sweep() {
        Instant now = clock.instant();
        if (store.sweep(now.minus(unhealthyAfter), now.minus(dropAfter))) {
            refresh();
        }
    }

    /** Records what a runtime's health probe answered. */
    public void probed(String id, boolean serving) {
        if (store.reachable(id, serving)) {
            refresh();
        }
    }

    /** Records that a runtime has just loaded something (before its next heartbeat says so). */
    public void updateOffers(String id, List<CapabilityOffer> offers) {
        Runtime known = view.runtimes().get(id);
        if (known != null && !known.offers().equals(offers) && store.offers(id, known.registration(offers))) {
            refresh();
        }
    }

    /**
     * Reads the store's rows again if its revision moved since the last read, and tells the listeners what changed.
     * Called after every change this replica makes, and every poll interval for the changes of the others.
     */
    public synchronized void refresh() {
        View before = view;
        if (store.revision() != before.revision()) {
            RuntimeStore.Snapshot snapshot = store.load();
            Map<String, Runtime> runtimes = new LinkedHashMap<>();
            snapshot.runtimes().forEach(runtime -> runtimes.put(runtime.id(), runtime));
            View after = new View(snapshot.revision(), Collections.unmodifiableMap(runtimes));
            view = after;
            announce(before, after);
        }
        currentAt = System.nanoTime();
    }

    /**
     * Each runtime's last heartbeat as the store has it now (this replica's copy is read again only when something
     * a client could see changed, and a heartbeat alone changes nothing of that).
     */
    public Map<String, Instant> lastHeartbeats() {
        return store.lastHeartbeats();
    }

    /**
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE when this replica could not read the store's registry for
     *                                        longer than it may answer from its copy: another replica may be able to
     */
    public void requireCurrent() {
        long age = System.nanoTime() - currentAt;
        if (currentAt == 0 || age > staleAfter.toNanos()) {
            throw Status.UNAVAILABLE.withDescription("this broker replica has not been able to read the mesh's "
                    + "registry from its store for " + Duration.ofNanos(age).toMillis() + " ms; retry, or ask "
                    + "another replica").asRuntimeException();
        }
    }

    /** The registry as this replica last read it. */
    public View view() {
        return view;
    }

    public Collection<Runtime> all() {
        return List.copyOf(view.all());
    }

    public Optional<Runtime> get(String id) {
        return Optional.ofNullable(view.runtimes().get(id));
    }

    /** The runtimes whose last heartbeat this replica heard: it probes their health. */
    public List<Runtime> heardHere() {
        return view.all().stream().filter(r -> r.heardBy().equals(self)).toList();
    }

    private void announce(View before, View after) {
        if (listeners.isEmpty()) {
            return;
        }
        List<Change> each = new ArrayList<>();
        before.runtimes().forEach((id, was) -> {
            Runtime is = after.runtimes().get(id);
            if (is == null) {
                each.add(new Change(was, null));
            } else if (!was.sameNews(is)) {
                each.add(new Change(was, is));
            }
        });
        after.runtimes().forEach((id, is) -> {
            if (!before.runtimes().containsKey(id)) {
                each.add(new Change(null, is));
            }
        });
        if (!each.isEmpty()) {
            Changes changes = new Changes(before, after, List.copyOf(each));
            listeners.forEach(listener -> listener.accept(changes));
        }
    }

    /** One runtime's offer of one capability. */
    public record Placement(Runtime runtime, CapabilityOffer offer) {
    }
}
