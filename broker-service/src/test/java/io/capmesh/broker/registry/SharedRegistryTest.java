package io.capmesh.broker.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.broker.lease.MutableClock;
import io.capmesh.broker.store.Database;
import io.capmesh.proto.v1.Capability;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.Tier;
import io.capmesh.proto.v1.WatchEvent;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two broker replicas' registries on one store: whichever replica hears a runtime, both see it alike. */
class SharedRegistryTest {

    private static final Duration UNHEALTHY_AFTER = Duration.ofSeconds(6);
    private static final Duration DROP_AFTER = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T10:00:00Z"));
    private final List<Database> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(Database::close);
    }

    private RuntimeRegistry replica(String name) {
        Database database = Database.open("jdbc:sqlite:" + dir.resolve("broker.db"), null, null);
        opened.add(database);
        return new RuntimeRegistry(new RuntimeStore(database), clock, UNHEALTHY_AFTER, DROP_AFTER,
                Duration.ofSeconds(6), name);
    }

    @Test
    void aRuntimeRegisteredThroughOneReplicaIsSeenByTheOtherAtItsNextRefresh() {
        RuntimeRegistry a = replica("a");
        RuntimeRegistry b = replica("b");
        List<RuntimeRegistry.Change> seenByB = new ArrayList<>();
        b.onChange(changes -> seenByB.addAll(changes.each()));

        a.register("rt-1", "core", endpoint(7001), List.of(offer("core.json", "1.0.0")));
        assertThat(b.get("rt-1")).isEmpty(); // not read yet
        b.refresh();

        assertThat(b.get("rt-1")).hasValueSatisfying(rt -> {
            assertThat(rt.healthy()).isTrue();
            assertThat(rt.offers()).containsExactly(offer("core.json", "1.0.0"));
            assertThat(rt.heardBy()).isEqualTo("a");
        });
        assertThat(b.view().revision()).isEqualTo(a.view().revision());
        assertThat(seenByB).singleElement().satisfies(change -> {
            assertThat(change.before()).isNull();
            assertThat(change.after().id()).isEqualTo("rt-1");
        });
        assertThat(b.view().placements("core.json")).hasSize(1);
    }

    @Test
    void watchersOfAReplicaHearOfACapabilityOnceWhenSeveralRuntimesChangeBetweenTwoReads() {
        RuntimeRegistry a = replica("a");
        RuntimeRegistry b = replica("b");
        List<WatchEvent> events = new ArrayList<>();
        new WatchHub(b, clock).watch("core.", new Recording(events));

        a.register("rt-1", "core", endpoint(7001), List.of(offer("core.json", "1.0.0")));
        a.register("rt-2", "core", endpoint(7002), List.of(offer("core.json", "1.0.0")));
        b.refresh(); // both at once
        assertThat(events).filteredOn(WatchEvent::hasCapabilityAdded).singleElement()
                .satisfies(added -> assertThat(added.getCapabilityAdded().getReplicasCount()).isEqualTo(2));
        assertThat(events).filteredOn(WatchEvent::hasRuntimeHealth).hasSize(2);

        events.clear();
        a.deregister("rt-1");
        a.register("rt-3", "core", endpoint(7003), List.of(offer("core.json", "1.0.0")));
        b.refresh(); // one left, one came: still offered
        assertThat(events).noneMatch(e -> e.hasCapabilityAdded() || e.hasCapabilityRemoved());

        events.clear();
        a.deregister("rt-2");
        a.deregister("rt-3");
        b.refresh();
        assertThat(events).filteredOn(WatchEvent::hasCapabilityRemoved).singleElement()
                .satisfies(removed -> assertThat(removed.getCapabilityRemoved().getName()).isEqualTo("core.json"));
    }

    /** A watch stream that keeps what it is sent. */
    private static final class Recording extends ServerCallStreamObserver<WatchEvent> {
        private final List<WatchEvent> events;

        Recording(List<WatchEvent> events) {
            this.events = events;
        }

        @Override
        public void onNext(WatchEvent event) {
            events.add(event);
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
        }

        @Override
        public void setCompression(String compression) {
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable handler) {
        }

        @Override
        public void request(int count) {
        }

        @Override
        public void setMessageCompression(boolean enable) {
        }

        @Override
        public void disableAutoInboundFlowControl() {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
    }

    @Test
    void heartbeatsReachingEitherReplicaKeepTheRuntimeAndOnlyChangesMoveTheRevision() {
        RuntimeRegistry a = replica("a");
        RuntimeRegistry b = replica("b");
        a.register("rt-1", "core", endpoint(7001), List.of(offer("core.json", "1.0.0")));
        b.refresh();
        long registered = a.view().revision();

        // the runtime's channel now reaches b: b knows it, takes over its health probe, and nothing else changes
        clock.advance(Duration.ofSeconds(2));
        assertThat(b.heartbeat("rt-1", ServingState.SERVING, List.of(offer("core.json", "1.0.0")))).isTrue();
        assertThat(b.heardHere()).extracting(RuntimeRegistry.Runtime::id).containsExactly("rt-1");
        a.refresh();
        assertThat(a.heardHere()).isEmpty();
        long heardByB = b.view().revision();

        clock.advance(Duration.ofSeconds(2));
        assertThat(b.heartbeat("rt-1", ServingState.SERVING, List.of(offer("core.json", "1.0.0")))).isTrue();
        assertThat(b.view().revision()).as("a heartbeat that changes nothing is not news").isEqualTo(heardByB);
        assertThat(heardByB).isGreaterThan(registered);
        assertThat(b.lastHeartbeats()).extractingByKey("rt-1")
                .isEqualTo(clock.instant());

        // new offers heard by b are seen by a
        b.heartbeat("rt-1", ServingState.SERVING, List.of(offer("core.json", "1.0.0"), offer("core.text", "2.0.0")));
        a.refresh();
        assertThat(a.view().placements("core.text")).hasSize(1);

        assertThat(a.heartbeat("rt-unknown", ServingState.SERVING, List.of())).as("must register").isFalse();
    }

    @Test
    void offersRecordedAfterALoadKeepWhenTheRuntimeWasLastHeard() {
        RuntimeRegistry a = replica("a");
        a.register("rt-1", "core", endpoint(7001), List.of(offer("core.json", "1.0.0")));
        clock.advance(Duration.ofSeconds(4));
        a.heartbeat("rt-1", ServingState.SERVING, List.of(offer("core.json", "1.0.0"))); // its time alone
        Instant heard = clock.instant();

        a.updateOffers("rt-1", List.of(offer("core.json", "1.0.0"), offer("core.text", "1.0.0")));
        assertThat(a.view().placements("core.text")).hasSize(1);
        assertThat(a.lastHeartbeats()).containsEntry("rt-1", heard);
        clock.advance(Duration.ofSeconds(4)); // 8 s after it registered, 4 s after it was last heard
        a.sweep();
        assertThat(a.get("rt-1").orElseThrow().healthy()).isTrue();
    }

    @Test
    void aRuntimeSilentOnEveryReplicaTurnsUnhealthyThenIsForgottenEverywhere() {
        RuntimeRegistry a = replica("a");
        RuntimeRegistry b = replica("b");
        a.register("rt-1", "core", endpoint(7001), List.of(offer("core.json", "1.0.0")));
        b.refresh();

        clock.advance(UNHEALTHY_AFTER.plusSeconds(1));
        // not swept yet, but a replica that reads the store now (one starting) is already told it is silent
        assertThat(replica("starting").get("rt-1")).hasValueSatisfying(rt -> assertThat(rt.healthy()).isFalse());
        a.sweep();
        b.refresh();
        assertThat(b.get("rt-1").orElseThrow().state()).isEqualTo(ServingState.UNKNOWN_STATE);

        // a heartbeat brings it back, through either replica
        assertThat(b.heartbeat("rt-1", ServingState.SERVING, List.of(offer("core.json", "1.0.0")))).isTrue();
        a.refresh();
        assertThat(a.get("rt-1").orElseThrow().healthy()).isTrue();

        clock.advance(DROP_AFTER.plusSeconds(1));
        b.sweep();
        a.refresh();
        assertThat(a.all()).isEmpty();
    }

    @Test
    void aDeregistrationAndAProbeThroughOneReplicaReachTheOther() {
        RuntimeRegistry a = replica("a");
        RuntimeRegistry b = replica("b");
        a.register("rt-1", "core", endpoint(7001), List.of(offer("core.json", "1.0.0")));
        a.register("rt-2", "core", endpoint(7002), List.of(offer("core.json", "1.0.0")));

        a.probed("rt-1", false);
        b.refresh();
        assertThat(b.get("rt-1").orElseThrow().effectiveState()).isEqualTo(ServingState.NOT_SERVING);

        b.deregister("rt-2");
        a.refresh();
        assertThat(a.all()).extracting(RuntimeRegistry.Runtime::id).containsExactly("rt-1");
    }

    @Test
    void aReplicaStartedLaterAnswersFromTheMeshsStateAtOnce() {
        RuntimeRegistry a = replica("a");
        a.register("rt-1", "core", endpoint(7001), List.of(offer("core.json", "1.0.0")));

        RuntimeRegistry late = replica("late");
        late.requireCurrent(); // it read the store as it started
        assertThat(late.view().placements("core.json")).hasSize(1);
    }

    @Test
    void aReplicaThatCannotReadTheStoreRefusesToAnswerFromItsCopy() throws Exception {
        Database database = Database.open("jdbc:sqlite:" + dir.resolve("broker.db"), null, null);
        RuntimeRegistry replica = new RuntimeRegistry(new RuntimeStore(database), clock,
                UNHEALTHY_AFTER, DROP_AFTER, Duration.ofMillis(50), "a");
        replica.requireCurrent();
        database.close(); // the store is gone
        Thread.sleep(100);
        assertThatThrownBy(replica::refresh).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot read the registry's revision from the broker's store");
        assertThatThrownBy(replica::requireCurrent).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("has not been able to read the mesh's registry");
        });
    }

    private static Endpoint endpoint(int port) {
        return Endpoint.newBuilder().setHost("127.0.0.1").setPort(port).build();
    }

    private static CapabilityOffer offer(String name, String version) {
        return CapabilityOffer.newBuilder().setCapability(Capability.newBuilder().setName(name).setVersion(version)
                .addMethods("m")).setTier(Tier.TIER_LOADED).build();
    }
}
