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
}
