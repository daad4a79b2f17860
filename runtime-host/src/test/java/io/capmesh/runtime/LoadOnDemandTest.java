package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.ListExtensionsResponse;
import io.capmesh.proto.v1.LoadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packages a runtime holds without loading them (tier 2), loaded when asked. */
class LoadOnDemandTest {

    @TempDir
    Path data;

    @Test
    void anAvailablePackageIsListedWithAnEstimateAndLoadsOnceWhenAskedTwice() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy("capmesh-ext-echo"); // a measured load the estimate can scale from
            runtime.host().runtime().makeAvailable(runtime.host().runtime().reader()
                    .read(TestExtensions.jar("capmesh-ext-legacy-guava")));

            ListExtensionsResponse before = runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance());
            assertThat(before.getAvailableList()).singleElement().satisfies(available -> {
                assertThat(available.getManifest().getId()).isEqualTo("legacy-guava");
                assertThat(available.getEstimatedLoadMicros()).isPositive();
            });

            var first = runtime.stub().load(LoadRequest.newBuilder().setExtensionId("legacy-guava").build());
            var second = runtime.stub().load(LoadRequest.newBuilder().setExtensionId("legacy-guava").build());
            assertThat(second.getExtension().getDeployedAt()).isEqualTo(first.getExtension().getDeployedAt());
            assertThat(TestRuntime.text(runtime.invoke("test.legacy-guava", "whoami", ""))).contains("guavaLoader");

            ListExtensionsResponse after = runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance());
            assertThat(after.getAvailableList()).isEmpty();
            assertThat(after.getExtensionsList()).extracting(e -> e.getManifest().getId())
                    .containsExactly("core-echo", "legacy-guava");

            // once unloaded it is available again, now with the load time measured for it
            runtime.unload("legacy-guava");
            assertThat(runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getAvailable(0)
                    .getEstimatedLoadMicros()).isEqualTo(first.getLoadMicros());
        }
    }

    @Test
    void loadingSomethingThatIsNotAvailableIsNotFound() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            assertThatThrownBy(() -> runtime.stub().load(LoadRequest.newBuilder().setExtensionId("nope").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                        assertThat(e.getStatus().getDescription()).contains("no package nope is available");
                    });
        }
    }
}
