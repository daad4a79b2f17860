package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capmesh up --access}: the five services of a local mesh requiring access control. The other commands use
 * the mesh's operator token on their own, the sample composes across the data, ml and crypto runtimes with the
 * leases each runtime checks, and a principal without the deploy role is refused and audited.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class LocalMeshAccessIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.jars"));
    private static final Path GUAVA = JARS.resolve("extensions").resolve("capmesh-ext-legacy-guava.jar");

    @TempDir
    Path dir;

    @Test
    void upWithAccessRequiresCredentialsAndTheCommandsUseTheOperatorsToken() throws Exception {
        Path mesh = dir.resolve("mesh");
        int basePort = LocalMeshIT.freeBasePort();
        try {
            Cli.Run up = Cli.run("up", "--dir", mesh.toString(), "--base-port", String.valueOf(basePort),
                    "--jars", JARS.toString(), "--timeout", "240s", "--access");
            assertThat(up.exit()).as(up.toString()).isZero();
            assertThat(up.out()).contains("access control: on, operator token " + mesh.resolve("access/operator.token"));

            Cli.Run demo = Cli.run("demo", "--dir", mesh.toString());
            assertThat(demo.exit()).as(demo.toString()).isZero();
            assertThat(demo.out()).contains("score-and-sign: data.sql -> ml.onnx -> crypto.sign", "north bed");

            Cli.Run deployed = Cli.run("deploy", GUAVA.toString(), "--dir", mesh.toString());
            assertThat(deployed.exit()).as(deployed.toString()).isZero();

            Path intruderToken = dir.resolve("intruder.token");
            Cli.Run token = Cli.run("token", "--key", mesh.resolve("access/issuer.pem").toString(),
                    "--subject", "intruder");
            assertThat(token.exit()).as(token.toString()).isZero();
            Files.writeString(intruderToken, token.out().strip());
            Cli.Run refused = Cli.run("unload", "legacy-guava", "--dir", mesh.toString(),
                    "--token-file", intruderToken.toString());
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(ExitCode.FAILED);
            assertThat(refused.err()).contains("intruder (token) lacks the role deploy");
            assertThat(Files.readString(mesh.resolve("logs/core-runtime.log")))
                    .contains("\"principal\":\"intruder\"", "\"result\":\"PERMISSION_DENIED\"");

            ManagedChannel plain = Grpc.newChannelBuilderForAddress("127.0.0.1", basePort + 1,
                    InsecureChannelCredentials.create()).build();
            try {
                assertThatThrownBy(() -> RuntimeServiceGrpc.newBlockingStub(plain)
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .invoke(InvokeRequest.newBuilder().setCapability("core.json").setMethod("canonicalize")
                                .setPayload(ByteString.copyFromUtf8("{}")).build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
            } finally {
                plain.shutdownNow();
            }
        } finally {
            Cli.Run down = Cli.run("down", "--dir", mesh.toString());
            assertThat(down.exit()).as(down.toString()).isZero();
        }
    }
}
