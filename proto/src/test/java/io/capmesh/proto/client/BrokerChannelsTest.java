package io.capmesh.proto.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.ListCapabilitiesRequest;
import io.capmesh.proto.v1.ListCapabilitiesResponse;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Channels to several broker replicas: spread over them, and a replica gone costs no call. */
class BrokerChannelsTest {

    private final List<Server> replicas = new ArrayList<>();
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        replicas.forEach(Server::shutdownNow);
    }

    @Test
    void aListIsOneTargetWhoseCallsGoRoundTheReplicasAndSkipOneThatIsGone() throws Exception {
        for (int i = 0; i < 3; i++) {
            replicas.add(replica("replica-" + i));
        }
        String target = replicas.stream().map(r -> "127.0.0.1:" + r.getPort()).collect(Collectors.joining(", "));
        assertThat(BrokerChannels.grpcTarget(target)).startsWith("capmesh-list:///127.0.0.1:");
        channel = BrokerChannels.builder(target, InsecureChannelCredentials.create(),
                BrokerChannels.Balancing.ROUND_ROBIN).build();

        Set<String> answered = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            answered.add(whoAnswers());
        }
        assertThat(answered).containsExactlyInAnyOrder("replica-0", "replica-1", "replica-2");

        replicas.get(1).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        Set<String> afterwards = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            afterwards.add(whoAnswers()); // never fails: a call that meets the replica gone is tried on another
        }
        assertThat(afterwards).containsExactlyInAnyOrder("replica-0", "replica-2");
    }

    @Test
    void pickFirstStaysOnTheFirstReplicaThatAnswersAndMovesOnWhenItGoes() throws Exception {
        replicas.add(replica("first"));
        replicas.add(replica("second"));
        channel = BrokerChannels.builder("127.0.0.1:" + replicas.get(0).getPort() + ",127.0.0.1:"
                + replicas.get(1).getPort(), InsecureChannelCredentials.create(),
                BrokerChannels.Balancing.PICK_FIRST).build();
        for (int i = 0; i < 10; i++) {
            assertThat(whoAnswers()).isEqualTo("first");
        }
        replicas.get(0).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        assertThat(whoAnswers()).isEqualTo("second");
    }

    @Test
    void aConnectionClosedUnderACallThatMayRepeatIsTriedAgainAnAcquireIsNot() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger acquires = new AtomicInteger();
        replicas.add(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new CapabilityBrokerGrpc.CapabilityBrokerImplBase() {
                    @Override
                    public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
                        acquires.incrementAndGet();
                        observer.onError(Status.UNKNOWN.withDescription("channel closed").asRuntimeException());
                    }

                    @Override
                    public void list(ListCapabilitiesRequest request,
                                     StreamObserver<ListCapabilitiesResponse> observer) {
                        if (calls.incrementAndGet() == 1) { // what the client sees when the connection drops
                            observer.onError(Status.UNKNOWN.withDescription("channel closed").asRuntimeException());
                            return;
                        }
                        observer.onNext(ListCapabilitiesResponse.newBuilder()
                                .addCapabilities(CatalogEntry.newBuilder().setName("second attempt")).build());
                        observer.onCompleted();
                    }
                }).build().start());
        channel = BrokerChannels.builder("127.0.0.1:" + replicas.get(0).getPort(), InsecureChannelCredentials.create(),
                BrokerChannels.Balancing.ROUND_ROBIN).build();
        assertThat(whoAnswers()).isEqualTo("second attempt");
        assertThat(calls).hasValue(2);
        // an Acquire repeated could leave a second lease: its UNKNOWN reaches the caller
        assertThatThrownBy(() -> CapabilityBrokerGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .acquire(AcquireRequest.getDefaultInstance())).hasMessageContaining("UNKNOWN");
        assertThat(acquires).hasValue(1);
    }

    @Test
    void oneAddressOrAGrpcTargetIsLeftAsItIs() {
        assertThat(BrokerChannels.grpcTarget("broker:9090")).isEqualTo("broker:9090");
        assertThat(BrokerChannels.grpcTarget("dns:///broker.capmesh:9090")).isEqualTo("dns:///broker.capmesh:9090");
    }

    @Test
    void aListMayNameIpv6Replicas() throws Exception {
        replicas.add(replica("v6", "::1"));
        replicas.add(replica("v4"));
        channel = BrokerChannels.builder("[::1]:" + replicas.get(0).getPort() + ",127.0.0.1:"
                + replicas.get(1).getPort(), InsecureChannelCredentials.create(),
                BrokerChannels.Balancing.PICK_FIRST).build();
        assertThat(whoAnswers()).isEqualTo("v6");
    }

    private String whoAnswers() {
        return CapabilityBrokerGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .list(ListCapabilitiesRequest.getDefaultInstance()).getCapabilities(0).getName();
    }

    private static Server replica(String name) throws Exception {
        return replica(name, "127.0.0.1");
    }

    /** A broker replica on a loopback address that answers List with its own name. */
    private static Server replica(String name, String loopback) throws Exception {
        return NettyServerBuilder.forAddress(new InetSocketAddress(loopback, 0))
                .addService(new CapabilityBrokerGrpc.CapabilityBrokerImplBase() {
                    @Override
                    public void list(ListCapabilitiesRequest request,
                                     StreamObserver<ListCapabilitiesResponse> observer) {
                        observer.onNext(ListCapabilitiesResponse.newBuilder()
                                .addCapabilities(CatalogEntry.newBuilder().setName(name)).build());
                        observer.onCompleted();
                    }
                }).build().start();
    }
}
