package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capmesh up --tls}: the five services of a local mesh with mutual TLS on {@code capmesh certs}'s files; each
 * refuses plaintext, the runtimes register with the broker over TLS, and later commands on the mesh use TLS on their
 * own.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class LocalMeshTlsIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.jars"));

    @TempDir
    Path dir;

    @Test
    void upWithTlsServesMutualTlsOnlyAndCommandsFollowTheMesh() throws Exception {
        Path certs = dir.resolve("certs");
        Path mesh = dir.resolve("mesh");
        assertThat(Cli.run("certs", "--out", certs.toString()).exit()).isZero();
        int basePort = LocalMeshIT.freeBasePort();
        try {
            Cli.Run up = Cli.run("up", "--dir", mesh.toString(), "--base-port", String.valueOf(basePort),
                    "--jars", JARS.toString(), "--timeout", "240s", "--tls", certs.toString());
            assertThat(up.exit()).as(up.toString()).isZero();
            assertThat(up.out()).contains("The mesh is up", "mutual TLS: " + certs);

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
