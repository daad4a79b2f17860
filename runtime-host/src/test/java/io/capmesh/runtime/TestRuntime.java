package io.capmesh.runtime;

import com.google.protobuf.ByteString;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A runtime host on a real gRPC server on loopback, with a channel to it. */
public final class TestRuntime implements AutoCloseable {

    private static final Duration UPLOAD_TIMEOUT = Duration.ofSeconds(60);

    private final RuntimeHost host;
    private final Server server;
    private final ManagedChannel channel;

    public TestRuntime(RuntimeSettings settings) throws IOException {
        host = new RuntimeHost(settings);
        server = host.configure(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))
                .addService(host.endpoint())
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
        return PackageUpload.deploy(async(), DeployHeader.getDefaultInstance(), jar, UPLOAD_TIMEOUT);
    }

    /** Uploads one of the test extension jars under its file name. */
    public DeployResponse deploy(String artifact) throws IOException {
        return PackageUpload.deploy(async(), DeployHeader.newBuilder().setFileName(artifact + ".jar").build(),
                TestExtensions.bytes(artifact), UPLOAD_TIMEOUT);
    }

    /** Deploys a jar the runtime reads from its own disk. */
    public DeployResponse deploy(Path jar) {
        return PackageUpload.deploy(async(), DeployHeader.newBuilder().setPath(jar.toString()).build(), new byte[0],
                UPLOAD_TIMEOUT);
    }

    public SwapResponse swap(byte[] jar) {
        return PackageUpload.swap(async(), DeployHeader.getDefaultInstance(), jar, UPLOAD_TIMEOUT);
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
