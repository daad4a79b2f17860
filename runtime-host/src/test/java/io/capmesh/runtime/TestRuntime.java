package io.capmesh.runtime;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.DeployRequest;
import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.proto.v1.UnloadResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** A runtime host on a real gRPC server on loopback, with a channel to it. */
public final class TestRuntime implements AutoCloseable {

    private final RuntimeHost host;
    private final Server server;
    private final ManagedChannel channel;

    public TestRuntime(RuntimeSettings settings) throws IOException {
        host = new RuntimeHost(settings);
        server = host.configure(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))
                .addService(new HealthStatusManager().getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build().start();
        host.start(List.of());
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    public static TestRuntime in(Path dataDirectory) throws IOException {
        return new TestRuntime(RuntimeSettings.defaults(dataDirectory));
    }

    public RuntimeHost host() {
        return host;
    }

    public ManagedChannel channel() {
        return channel;
    }

    public RuntimeServiceGrpc.RuntimeServiceBlockingStub stub() {
        return RuntimeServiceGrpc.newBlockingStub(channel);
    }

    public RuntimeServiceGrpc.RuntimeServiceStub async() {
        return RuntimeServiceGrpc.newStub(channel);
    }

    public DeployResponse deploy(byte[] jar) {
        return upload(jar, RuntimeServiceGrpc.newStub(channel)::deploy);
    }

    /** Uploads one of the test extension jars under its file name. */
    public DeployResponse deploy(String artifact) throws IOException {
        return upload(DeployHeader.newBuilder().setFileName(artifact + ".jar").build(),
                TestExtensions.bytes(artifact), RuntimeServiceGrpc.newStub(channel)::deploy);
    }

    /** Deploys a jar the runtime reads from its own disk. */
    public DeployResponse deploy(Path jar) {
        return upload(DeployHeader.newBuilder().setPath(jar.toString()).build(), new byte[0],
                RuntimeServiceGrpc.newStub(channel)::deploy);
    }

    public SwapResponse swap(byte[] jar) {
        return upload(jar, RuntimeServiceGrpc.newStub(channel)::swap);
    }

    /** Streams a jar in 64 KiB chunks after a header, as a client with a large package would. */
    public <R> R upload(byte[] jar, Function<StreamObserver<R>, StreamObserver<DeployRequest>> call) {
        return upload(DeployHeader.getDefaultInstance(), jar, call);
    }

    public <R> R upload(DeployHeader header, byte[] jar,
                        Function<StreamObserver<R>, StreamObserver<DeployRequest>> call) {
        CompletableFuture<R> result = new CompletableFuture<>();
        StreamObserver<DeployRequest> requests = call.apply(new StreamObserver<>() {
            @Override
            public void onNext(R value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        requests.onNext(DeployRequest.newBuilder().setHeader(header).build());
        for (int at = 0; at < jar.length; at += 64 * 1024) {
            requests.onNext(DeployRequest.newBuilder()
                    .setChunk(ByteString.copyFrom(jar, at, Math.min(64 * 1024, jar.length - at))).build());
        }
        requests.onCompleted();
        try {
            return result.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public InvokeResponse invoke(String capability, String method, String payload) {
        return stub().invoke(InvokeRequest.newBuilder().setCapability(capability).setMethod(method)
                .setPayload(ByteString.copyFromUtf8(payload)).build());
    }

    public static String text(InvokeResponse response) {
        return response.getPayload().toString(StandardCharsets.UTF_8);
    }

    public UnloadResponse unload(String id) {
        return stub().unload(UnloadRequest.newBuilder().setExtensionId(id).build());
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        host.close();
    }
}
