package io.capmesh.bench;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.runtime.ExtensionRuntime;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The in-process call paths to {@code core.echo} with a 100-byte payload, each one layer more than the last: the
 * extension object called directly, the runtime's SPI path (pin, permit, context classloader, unpin), the
 * runtime's gRPC endpoint over the in-process transport, and the same endpoint over loopback TCP in this JVM.
 */
@BenchmarkMode({Mode.SampleTime, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CallPathBenchmarks {

    static final int PAYLOAD_BYTES = 100;

    /** One runtime with the echo extension deployed, serving its endpoint in process and on loopback. */
    @State(Scope.Benchmark)
    public static class Runtime {
        InProcessRuntime runtime;
        ExtensionRuntime engine;
        Extension echo;
        Invocation invocation;
        byte[] payload;
        Server inProcessServer;
        Server loopbackServer;
        ManagedChannel inProcessChannel;
        ManagedChannel loopbackChannel;
        RuntimeServiceGrpc.RuntimeServiceBlockingStub inProcess;
        RuntimeServiceGrpc.RuntimeServiceBlockingStub loopback;
        InvokeRequest request;

        @Setup(Level.Trial)
        public void start() throws Exception {
            runtime = new InProcessRuntime();
            engine = runtime.host().runtime();
            echo = runtime.deploy(runtime.jars().shipped(ExtensionJars.ECHO)).live().instance();
            payload = new byte[PAYLOAD_BYTES];
            invocation = new Invocation("core.echo", "echo", payload, Map.of());
            request = InvokeRequest.newBuilder().setCapability("core.echo").setMethod("echo")
                    .setPayload(ByteString.copyFrom(payload)).build();
            String name = "capmesh-bench-" + System.nanoTime();
            inProcessServer = runtime.host().configure(InProcessServerBuilder.forName(name))
                    .addService(runtime.host().endpoint()).build().start();
            loopbackServer = runtime.host().configure(NettyServerBuilder.forAddress(
                    new InetSocketAddress("127.0.0.1", 0))).addService(runtime.host().endpoint()).build().start();
            inProcessChannel = InProcessChannelBuilder.forName(name).build();
            loopbackChannel = NettyChannelBuilder.forAddress("127.0.0.1", loopbackServer.getPort()).usePlaintext()
                    .build();
            inProcess = RuntimeServiceGrpc.newBlockingStub(inProcessChannel);
            loopback = RuntimeServiceGrpc.newBlockingStub(loopbackChannel);
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            inProcessChannel.shutdownNow();
            loopbackChannel.shutdownNow();
            inProcessServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            loopbackServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            runtime.close();
        }
    }

    /** 1: the floor, a plain interface call on the extension's object. */
    @Benchmark
    public byte[] direct(Runtime state) throws Exception {
        return state.echo.invoke(state.invocation);
    }

    /** 2: across the classloader boundary as the runtime does it for every call. */
    @Benchmark
    public byte[] spi(Runtime state) {
        return state.engine.invoke("core.echo", "echo", state.payload, Map.of()).payload();
    }

    /** 3: the runtime's gRPC endpoint over grpc-java's in-process transport. */
    @Benchmark
    public InvokeResponse inProcessGrpc(Runtime state) {
        return state.inProcess.invoke(state.request);
    }

    /** 4: the same endpoint over loopback TCP (Netty), client and server in this JVM. */
    @Benchmark
    public InvokeResponse loopbackGrpc(Runtime state) {
        return state.loopback.invoke(state.request);
    }
}
