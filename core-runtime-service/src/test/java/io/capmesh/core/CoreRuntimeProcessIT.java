package io.capmesh.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.proto.client.Completion;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.capmesh.runtime.pkg.Repackager;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged core runtime as its own process: bundled capabilities, reflection, and surviving a crash. */
class CoreRuntimeProcessIT {

    private static final java.time.Duration UPLOAD = java.time.Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void servesItsBundledCapabilitiesAndShowsItsServicesThroughReflection() throws Exception {
        try (ServiceProcess runtime = start(dir.resolve("data"))) {
            var stub = RuntimeServiceGrpc.newBlockingStub(runtime.channel());
            assertThat(text(invoke(stub, "core.json", "canonicalize", "{\"b\":1,\"a\":2.50}")))
                    .isEqualTo("{\"a\":2.5,\"b\":1}");
            byte[] gz = invoke(stub, "core.compress", "gzip", "hello hello hello").getPayload().toByteArray();
            assertThat(new String(new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz))
                    .readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello hello hello");
            assertThat(text(invoke(stub, "core.echo", "echo", "hi"))).isEqualTo("hi");
            assertThat(reflectedServices(runtime))
                    .contains("capmesh.v1.RuntimeService", "grpc.health.v1.Health");
        }
    }

    @Test
    void anAcknowledgedDeployAndSwapSurviveAKill() throws Exception {
        Path data = dir.resolve("data");
        byte[] guava = Files.readAllBytes(Path.of(System.getProperty("capmesh.demo.extensions"),
                "capmesh-ext-legacy-guava.jar"));
        try (ServiceProcess runtime = start(data)) {
            var async = RuntimeServiceGrpc.newStub(runtime.channel());
            DeployResponse deployed = PackageUpload.deploy(async, DeployHeader.getDefaultInstance(), guava, UPLOAD);
            assertThat(deployed.getExtension().getManifest().getId()).isEqualTo("legacy-guava");
            byte[] echo = bundledEcho();
            SwapResponse swapped = PackageUpload.swap(async, DeployHeader.getDefaultInstance(),
                    Repackager.withVersion(echo, "1.4.0"), UPLOAD);
            assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.4.0");
            runtime.kill(); // right after the acknowledgements: no graceful shutdown
        }
        try (ServiceProcess restarted = start(data)) {
            var stub = RuntimeServiceGrpc.newBlockingStub(restarted.channel());
            assertThat(text(invoke(stub, "test.legacy-guava", "whoami", "")))
                    .contains("\"hasToImmutableList\": false");
            // the swapped-in version wins over the one bundled with the service
            assertThat(invoke(stub, "core.echo", "echo", "x").getExtensionVersion()).isEqualTo("1.4.0");
            assertThat(stub.listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .extracting(e -> e.getManifest().getId())
                    .containsExactly("core-compress", "core-echo", "core-json", "legacy-guava");
        }
    }

    private static ServiceProcess start(Path data) throws Exception {
        return ServiceProcess.start(Path.of(System.getProperty("capmesh.service.jar")),
                data.resolveSibling(data.getFileName() + ".log"), "--capmesh.runtime.data-dir=" + data);
    }

    private static byte[] bundledEcho() throws Exception {
        try (var in = CoreRuntimeProcessIT.class.getClassLoader()
                .getResourceAsStream("capmesh/extensions/capmesh-ext-echo.jar")) {
            return in.readAllBytes();
        }
    }

    private static List<String> reflectedServices(ServiceProcess runtime) throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(runtime.channel())
                .serverReflectionInfo(Completion.of(answer));
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        return answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).toList();
    }

    private static io.capmesh.proto.v1.InvokeResponse invoke(RuntimeServiceGrpc.RuntimeServiceBlockingStub stub,
                                                           String capability, String method, String payload) {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS).invoke(InvokeRequest.newBuilder()
                .setCapability(capability).setMethod(method).setPayload(ByteString.copyFromUtf8(payload)).build());
    }

    private static String text(io.capmesh.proto.v1.InvokeResponse response) {
        return response.getPayload().toString(StandardCharsets.UTF_8);
    }

}
