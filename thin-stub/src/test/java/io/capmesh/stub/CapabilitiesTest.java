package io.capmesh.stub;

import static io.capmesh.stub.CallPolicyTest.await;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Leases: renewed in the background, failures reported instead of thrown, released once. */
class CapabilitiesTest {

    private Fakes.Runtime runtime;
    private Fakes.Broker broker;
    private CapabilityClient client;

    @BeforeEach
    void start() throws Exception {
        runtime = new Fakes.Runtime("a", Collections.synchronizedList(new ArrayList<>()));
        broker = new Fakes.Broker(List.of(runtime.endpoint()));
        broker.ttl = Duration.ofMillis(600);
        client = CapabilityClient.builder().broker(broker.target()).account("acme").build();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        broker.close();
        runtime.close();
    }

    @Test
    void renewsInTheBackgroundAndReleasesOnceOnClose() throws Exception {
        Capabilities caps = client.acquire(Acquire.require("core.echo"));
        Instant first = caps.lease().expiresAt();

        Thread.sleep(1_500); // 2.5 times the lease's time to live
        assertThat(broker.renewals.get()).isBetween(4, 12); // a third of the remaining time each
        assertThat(caps.lease().expiresAt()).isAfter(first);
        assertThat(caps.lease().lastRenewalFailure()).isEmpty();

        caps.close();
        caps.close();
        assertThat(broker.released).containsExactly("lease-1");
        int renewals = broker.renewals.get();
        Thread.sleep(400);
        assertThat(broker.renewals).hasValue(renewals);
        assertThatThrownBy(() -> caps.get("core.echo").invoke("echo", new byte[0]))
                .isInstanceOfSatisfying(CapabilityCallException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e).hasMessageContaining("closed and their lease released; acquire again");
                });
    }

    @Test
    void aFailingRenewalIsReportedNeverThrownIntoCalls() throws Exception {
        broker.renewFailure = Status.UNAVAILABLE.withDescription("broker is busy");
        Capabilities caps = client.acquire(Acquire.require("core.echo"));

        // each renewal is tried on the broker a few times (as on another replica) before it counts as failed
        await(() -> caps.lease().lastRenewalFailure().isPresent());
        assertThat(broker.renewals.get()).isGreaterThan(1);
        assertThat(caps.lease().lastRenewalFailure()).hasValueSatisfying(
                status -> assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        assertThat(caps.get("core.echo").invoke("echo", "x".getBytes(UTF_8))).asString(UTF_8).isEqualTo("a:x");

        broker.renewFailure = null;
        await(() -> caps.lease().lastRenewalFailure().isEmpty());
        assertThat(caps.lease().id()).isEqualTo("lease-1");
    }

    @Test
    void aLeaseTheBrokerNoLongerKnowsIsAcquiredAgain() throws Exception {
        Capabilities caps = client.acquire(Acquire.require("core.echo"));
        broker.leases.clear(); // as if it expired while the broker was unreachable

        // the new lease is published first, the renewal failure cleared right after it
        await(() -> caps.lease().id().equals("lease-2") && caps.lease().lastRenewalFailure().isEmpty());
    }

    @Test
    void optionalCapabilitiesThatCannotBeHadAreListedWithTheBrokersReason() {
        Capabilities caps = client.acquire(Acquire.require("core.echo").optional("ml.onnx", "^2"));

        assertThat(caps.missing()).containsExactly(new Missing("ml.onnx", "^2", "no runtime offers ml.onnx"));
        assertThat(caps.find("ml.onnx")).isEmpty();
        assertThatThrownBy(() -> caps.get("ml.onnx")).isInstanceOfSatisfying(CapabilityCallException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND))
                .hasMessageContaining("optional capability ml.onnx could not be had: no runtime offers ml.onnx");
        assertThatThrownBy(() -> caps.get("data.sql"))
                .hasMessageContaining("data.sql is not part of this lease (it holds core.echo); acquire it first");
        assertThat(caps.get("core.echo").version()).isEqualTo("1.0.0");
    }

    @Test
    void anUnreachableBrokerFailsAcquireWithWhereItLooked() throws Exception {
        String nowhere = "127.0.0.1:" + Fakes.nothingListening().getPort();
        try (CapabilityClient lost = CapabilityClient.builder().broker(nowhere).account("acme").build()) {
            assertThatThrownBy(() -> lost.acquire(Acquire.require("core.echo")))
                    .isInstanceOfSatisfying(CapabilityCallException.class, e -> {
                        assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.method()).isEqualTo("CapabilityBroker/Acquire");
                        assertThat(e.endpoint()).isEqualTo(nowhere);
                    });
        }
    }

    @Test
    void anAcquireRightAfterTheBrokerRestartedDoesNotWaitOutTheReconnectBackoff() throws Exception {
        client.acquire(Acquire.require("core.echo")).close();
        int port = broker.port();
        broker.close();
        for (int i = 0; i < 3; i++) { // failures while it is down push the channel into its reconnect backoff
            assertThatThrownBy(client::list).isInstanceOfSatisfying(CapabilityCallException.class,
                    e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
        }
        broker = new Fakes.Broker(List.of(runtime.endpoint()), port);

        try (Capabilities caps = client.acquire(Acquire.require("core.echo"))) {
            assertThat(caps.lease().id()).isEqualTo("lease-1"); // granted by the new broker
        }
    }

    @Test
    void closingTheClientReleasesEveryLeaseStillOpen() {
        client.acquire(Acquire.require("core.echo"));
        client.acquire(Acquire.require("core.echo"));

        client.close();
        assertThat(broker.released).containsExactlyInAnyOrder("lease-1", "lease-2");
        assertThatThrownBy(() -> client.acquire(Acquire.require("core.echo")))
                .hasMessageContaining("the client is closed");
    }
}
