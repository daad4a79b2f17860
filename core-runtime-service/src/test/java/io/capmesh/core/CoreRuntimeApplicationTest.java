package io.capmesh.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.UnloadRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.event.EventListener;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;

/** The service as Boot wires it: bundled extensions loaded before serving, and the runtime's meters. */
@SpringBootTest(properties = {
        "spring.grpc.server.address=127.0.0.1",
        "spring.grpc.server.port=0",
        "capmesh.runtime.data-dir=${java.io.tmpdir}/capmesh-core-runtime-application-test/${random.uuid}"})
class CoreRuntimeApplicationTest {

    @TestConfiguration
    static class Port {
        volatile int value;

        @EventListener
        void started(GrpcServerStartedEvent event) {
            value = event.getPort();
        }
    }

    @Autowired
    Port port;

    @Autowired
    MeterRegistry meters;

    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port.value).usePlaintext().build();
    }

    @AfterEach
    void disconnect() {
        channel.shutdownNow();
    }

    @Test
    void countsCallsPerExtensionVersionAndDropsTheMetersOfAnUnloadedOne() {
        var stub = RuntimeServiceGrpc.newBlockingStub(channel);
        for (int i = 0; i < 3; i++) {
            stub.invoke(InvokeRequest.newBuilder().setCapability("core.echo").setMethod("echo")
                    .setPayload(ByteString.copyFromUtf8("x")).build());
        }
        FunctionCounter calls = meters.find("capmesh.extension.calls")
                .tags("extension", "core-echo", "version", "1.0.0").functionCounter();
        assertThat(calls).isNotNull();
        assertThat(calls.count()).isEqualTo(3);
        assertThat(meters.find("capmesh.extension.load").tag("extension", "core-json").timer())
                .isNotNull().extracting(Timer::count).isEqualTo(1L);

        var unloaded = stub.unload(UnloadRequest.newBuilder().setExtensionId("core-echo").build());

        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
        assertThat(meters.find("capmesh.extension.calls").tags("extension", "core-echo").functionCounter()).isNull();
        assertThat(meters.find("capmesh.extension.reclaim").tag("state", "collected").timer())
                .isNotNull().extracting(Timer::count).isEqualTo(1L);
    }
}
