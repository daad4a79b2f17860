package io.capmesh.runtime.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.access.Revocations;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.HeartbeatRequest;
import io.capmesh.proto.v1.HeartbeatResponse;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.RegisterResponse;
import io.capmesh.runtime.RuntimeSettings;
import io.capmesh.runtime.TestRuntime;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerRegistrationTest {

    @TempDir
    Path data;

    /** Answers Register and Heartbeat as a broker does, asking for a beat every 200 ms. */
    static final class Broker extends CapabilityBrokerGrpc.CapabilityBrokerImplBase {
        final CountDownLatch registered = new CountDownLatch(1);
        final CountDownLatch beaten = new CountDownLatch(1);

        @Override
        public void register(RegisterRequest request, StreamObserver<RegisterResponse> answer) {
            registered.countDown();
            answer.onNext(RegisterResponse.newBuilder().setHeartbeatIntervalMillis(200).build());
            answer.onCompleted();
        }

        @Override
        public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> answer) {
            beaten.countDown();
            answer.onNext(HeartbeatResponse.getDefaultInstance());
            answer.onCompleted();
        }
    }

    @Test
    void aRuntimeRegistersAgainWithinABeatOnceABrokerThatWasDownIsBack() throws Exception {
        Broker first = new Broker();
        Server broker = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(first)
                .build().start();
        int port = broker.getPort();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        Server back = null;
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data));
             BrokerRegistration registration = new BrokerRegistration(channel, runtime.host().runtime(),
                     new BrokerRegistration.Identity("rt-1", "core", "127.0.0.1", 1), timer, new Revocations())) {
            registration.start();
            // a heartbeat follows only a registration the runtime saw answered, with its 200 ms interval
            assertThat(first.beaten.await(10, TimeUnit.SECONDS)).isTrue();

            // the broker is down for 10 s: gRPC's own reconnect backoff would next try about 4 s after it is back
            broker.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            Thread.sleep(10_000);
            Broker restarted = new Broker();
            back = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(restarted)
                    .build().start();

            // a beat every 200 ms: registered again within a few beats, not after the backoff
            assertThat(restarted.registered.await(2, TimeUnit.SECONDS)).as("registered again within 2 s").isTrue();
        } finally {
            timer.shutdownNow();
            broker.shutdownNow();
            if (back != null) {
                back.shutdownNow();
            }
        }
    }
}
