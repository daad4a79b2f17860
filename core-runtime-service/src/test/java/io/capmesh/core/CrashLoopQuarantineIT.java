package io.capmesh.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.ListExtensionsResponse;
import io.capmesh.proto.v1.QuarantinedExtension;
import io.capmesh.proto.v1.ReleaseQuarantineRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash loop ends in quarantine: an extension that kills its runtime where no guard reaches ({@code kill -9} of
 * its own process), during a call and then at every restore, is restored quarantined after three abnormal ends in
 * a row, and the runtime serves everything else. Each run is the packaged runtime in a process of its own.
 */
class CrashLoopQuarantineIT {

    private static final String KILL_ON_START = "--capmesh.runtime.extensions.self-kill.kill-on-start=true";

    @TempDir
    Path dir;

    @Test
    void anExtensionThatKeepsKillingItsRuntimeIsQuarantinedAndEverythingElseServes() throws Exception {
        Path data = dir.resolve("data");
        byte[] selfKill = selfKillJar();

        // 1: deployed and acknowledged, then a call kills the runtime while it is in flight
        try (ServiceProcess runtime = start(data, 1)) {
            PackageUpload.deploy(RuntimeServiceGrpc.newStub(runtime.channel()), DeployHeader.getDefaultInstance(),
                    selfKill, Duration.ofSeconds(60));
            assertThat(text(invoke(runtime, "test.self-kill", "ok", "fine"))).isEqualTo("fine");
            assertThatThrownBy(() -> invoke(runtime, "test.self-kill", "kill", ""))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            assertThat(runtime.awaitExit(Duration.ofSeconds(30))).as("the runtime was killed").isEqualTo(137);
        }
        // 2 and 3: every restore kills it again, while it loads
        for (int run = 2; run <= 3; run++) {
            String log = ServiceProcess.refusal(jar(), log(data, run), Map.of(), "--capmesh.runtime.data-dir=" + data,
                    KILL_ON_START);
            assertThat(log).as("run " + run).contains("abnormally");
        }
        // 4: the restart restores it quarantined, and serves the rest
        try (ServiceProcess runtime = start(data, 4, KILL_ON_START)) {
            ListExtensionsResponse held = list(runtime);
            assertThat(held.getExtensionsList()).extracting(e -> e.getManifest().getId())
                    .containsExactly("core-compress", "core-echo", "core-json");
            QuarantinedExtension quarantined = held.getQuarantinedList().get(0);
            assertThat(held.getQuarantinedList()).hasSize(1);
            assertThat(quarantined.getManifest().getId()).isEqualTo("self-kill");
            assertThat(quarantined.getReason()).contains("3 abnormal ends in a row", "loading or had calls in flight",
                    "capmesh quarantine release self-kill");
            assertThat(text(invoke(runtime, "core.echo", "echo", "still here"))).isEqualTo("still here");
            assertThatThrownBy(() -> invoke(runtime, "test.self-kill", "ok", ""))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
            assertThat(Files.readString(log(data, 4))).contains("quarantined self-kill@1.0.0");
        }
        // 5: fixed (the setting that made it kill is gone), an operator releases it, and it serves again
        try (ServiceProcess runtime = start(data, 5)) {
            assertThat(list(runtime).getQuarantinedList()).extracting(q -> q.getManifest().getId())
                    .containsExactly("self-kill");
            var released = RuntimeServiceGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .releaseQuarantine(ReleaseQuarantineRequest.newBuilder().setExtensionId("self-kill").build());
            assertThat(released.getExtension().getManifest().getVersion()).isEqualTo("1.0.0");
            assertThat(text(invoke(runtime, "test.self-kill", "ok", "back"))).isEqualTo("back");
            assertThat(list(runtime).getQuarantinedList()).isEmpty();
            assertThatThrownBy(() -> RuntimeServiceGrpc.newBlockingStub(runtime.channel())
                    .releaseQuarantine(ReleaseQuarantineRequest.newBuilder().setExtensionId("self-kill").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                        assertThat(e.getStatus().getDescription()).contains("self-kill is not quarantined");
                    });
        }
    }

    private static ServiceProcess start(Path data, int run, String... more) throws Exception {
        String[] args = new String[more.length + 1];
        args[0] = "--capmesh.runtime.data-dir=" + data;
        System.arraycopy(more, 0, args, 1, more.length);
        return ServiceProcess.start(jar(), log(data, run), args);
    }

    private static byte[] selfKillJar() throws java.io.IOException {
        return Files.readAllBytes(Path.of(System.getProperty("capmesh.test.extensions"),
                "capmesh-ext-misbehaving-self-kill.jar"));
    }

    private static Path jar() {
        return Path.of(System.getProperty("capmesh.service.jar"));
    }

    private static Path log(Path data, int run) {
        return data.resolveSibling(data.getFileName() + "-run" + run + ".log");
    }

    private static ListExtensionsResponse list(ServiceProcess runtime) {
        return RuntimeServiceGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                .listExtensions(ListExtensionsRequest.getDefaultInstance());
    }

    private static io.capmesh.proto.v1.InvokeResponse invoke(ServiceProcess runtime, String capability,
                                                           String method, String payload) {
        return RuntimeServiceGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                .invoke(InvokeRequest.newBuilder().setCapability(capability).setMethod(method)
                        .setPayload(ByteString.copyFromUtf8(payload)).build());
    }

    private static String text(io.capmesh.proto.v1.InvokeResponse response) {
        return response.getPayload().toString(StandardCharsets.UTF_8);
    }
}
