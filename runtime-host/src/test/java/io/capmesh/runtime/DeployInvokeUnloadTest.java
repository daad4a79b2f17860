package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.DescribeRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.UnloadResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeployInvokeUnloadTest {

    @TempDir
    Path data;

    @Test
    void deploysFromBytesInvokesAndUnloadsUntilCollected() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            DeployResponse deployed = runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            assertThat(deployed.getExtension().getManifest().getId()).isEqualTo("core-echo");
            assertThat(deployed.getExtension().getManifest().getCapabilities(0).getMethodsList())
                    .containsExactly("echo", "hold");

            var answer = runtime.invoke("core.echo", "echo", "hello");
            assertThat(TestRuntime.text(answer)).isEqualTo("hello");
            assertThat(answer.getExtensionVersion()).isEqualTo("1.0.0");

            UnloadResponse unloaded = runtime.unload("core-echo");
            assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
            assertThat(unloaded.getReclamation().getCausesList()).isEmpty();

            assertThatThrownBy(() -> runtime.invoke("core.echo", "echo", "hello"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
            var described = runtime.stub().describe(DescribeRequest.newBuilder().setExtensionId("core-echo").build());
            assertThat(described.hasExtension()).isFalse();
            assertThat(described.getUnloaded(0).getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
        }
    }

    @Test
    void deploysFromAPathOnTheRuntimesDisk() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            DeployResponse deployed = runtime.deploy(TestExtensions.jar("capmesh-ext-echo"));
            assertThat(deployed.getExtension().getManifest().getVersion()).isEqualTo("1.0.0");
            assertThat(runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .extracting(e -> e.getManifest().getId()).containsExactly("core-echo");
        }
    }

    @Test
    void aRestartedRuntimeRestoresWhatWasDeployed() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            runtime.invoke("core.echo", "echo", "before");
        }
        try (TestRuntime restarted = TestRuntime.in(data)) {
            assertThat(TestRuntime.text(restarted.invoke("core.echo", "echo", "after"))).isEqualTo("after");
            var info = restarted.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensions(0);
            assertThat(info.getInvocations()).isEqualTo(2);
        }
    }

    @Test
    void aDeployThatFailsToLoadLeavesNothingForARestartToRestore() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            assertThatThrownBy(() -> runtime.deploy(TestExtensions.bytes("capmesh-ext-misbehaving-static-init")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                            .isEqualTo(Status.Code.FAILED_PRECONDITION));
        }
        try (TestRuntime restarted = TestRuntime.in(data)) {
            assertThat(restarted.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .isEmpty();
        }
    }

    @Test
    void ofConcurrentDeploysOfOneIdTheAcknowledgedOneIsWhatARestartRestores() throws Exception {
        byte[] echo = TestExtensions.bytes("capmesh-ext-echo");
        List<byte[]> versions = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String version = "1.0." + (100 + i);
            versions.add(TestExtensions.rewriteManifest(echo, json -> json.replaceFirst(
                    "\"version\"\\s*:\\s*\"[^\"]+\"", "\"version\": \"" + version + "\"")));
        }
        List<String> acknowledged = new ArrayList<>();
        try (TestRuntime runtime = TestRuntime.in(data)) {
            ExecutorService deployers = Executors.newFixedThreadPool(versions.size());
            try {
                List<Future<DeployResponse>> answers = new ArrayList<>();
                for (byte[] jar : versions) {
                    answers.add(deployers.submit(() -> runtime.deploy(jar)));
                }
                for (Future<DeployResponse> answer : answers) {
                    try {
                        acknowledged.add(answer.get(60, TimeUnit.SECONDS).getExtension().getManifest().getVersion());
                    } catch (ExecutionException refused) {
                        assertThat(((StatusRuntimeException) refused.getCause()).getStatus().getCode())
                                .isIn(Status.Code.FAILED_PRECONDITION, Status.Code.ALREADY_EXISTS);
                    }
                }
            } finally {
                deployers.shutdownNow();
            }
            assertThat(acknowledged).hasSize(1);
        }
        try (TestRuntime restarted = TestRuntime.in(data)) {
            assertThat(restarted.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .extracting(e -> e.getManifest().getVersion()).containsExactlyElementsOf(acknowledged);
        }
    }
}
