package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capmesh up --tls --access}: the five services of a local mesh as production runs them, with mutual TLS on
 * {@code capmesh certs}'s files and access control required. Each service refuses plaintext; the runtimes register
 * with the broker over TLS with their tokens; later commands use TLS and the mesh's operator token on their own; the
 * sample composes across the data, ml and crypto runtimes with the leases each runtime checks; a principal without
 * the deploy role is refused and audited; a caller with a certificate but no lease calls nothing.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class LocalMeshSecureIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.jars"));
    private static final Path GUAVA = JARS.resolve("extensions").resolve("capmesh-ext-legacy-guava.jar");

    @TempDir
    Path dir;

    @Test
    void upWithTlsAndAccessServesOnlyMutualTlsCallersWithCredentialsAndCommandsFollowTheMesh() throws Exception {
        Path certs = dir.resolve("certs");
        Path mesh = dir.resolve("mesh");
        assertThat(Cli.run("certs", "--out", certs.toString()).exit()).isZero();
        int basePort = LocalMeshIT.freeBasePort();
        try {
            Cli.Run up = Cli.run("up", "--dir", mesh.toString(), "--base-port", String.valueOf(basePort),
                    "--jars", JARS.toString(), "--timeout", "240s", "--tls", certs.toString(), "--access");
            assertThat(up.exit()).as(up.toString()).isZero();
            assertThat(up.out()).contains("The mesh is up", "mutual TLS: " + certs,
                    "access control: on, operator token " + mesh.resolve("access/operator.token"));

            ChannelCredentials client = new TlsDirectory(certs).clientCredentials();
            for (int port = basePort; port < basePort + 5; port++) {
                assertThat(health(port, client)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
                int plaintextPort = port;
                assertThatThrownBy(() -> health(plaintextPort, InsecureChannelCredentials.create()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            }

            Cli.Run health = Cli.run("health", "--dir", mesh.toString());
            assertThat(health.exit()).as(health.toString()).isZero();
            assertThat(health.out()).contains("core-runtime", "crypto-runtime");
            Cli.Run invoked = Cli.run("invoke", "core.json", "canonicalize", "--data", "{\"b\":1,\"a\":2}",
                    "--dir", mesh.toString());
            assertThat(invoked.exit()).as(invoked.toString()).isZero();
            assertThat(invoked.out()).contains("{\"a\":2,\"b\":1}");
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

            // the client certificate names a principal, but a data-plane call needs a lease
            ManagedChannel certified = Grpc.newChannelBuilderForAddress("127.0.0.1", basePort + 1, client).build();
            try {
                assertThatThrownBy(() -> RuntimeServiceGrpc.newBlockingStub(certified)
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .invoke(InvokeRequest.newBuilder().setCapability("core.json").setMethod("canonicalize")
                                .setPayload(ByteString.copyFromUtf8("{}")).build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                            assertThat(e).hasMessageContaining("capmesh-lease");
                        });
            } finally {
                certified.shutdownNow();
            }
        } finally {
            Cli.Run down = Cli.run("down", "--dir", mesh.toString());
            assertThat(down.exit()).as(down.toString()).isZero();
        }
    }

    private static HealthCheckResponse.ServingStatus health(int port, ChannelCredentials credentials) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials).build();
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } finally {
            channel.shutdownNow();
        }
    }
}
