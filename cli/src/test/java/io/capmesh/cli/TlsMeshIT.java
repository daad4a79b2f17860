package io.capmesh.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityCallException;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker and a core runtime, each its own JVM, requiring mutual TLS on certificates from {@code capmesh certs}:
 * the runtime registers with the broker and the broker probes the runtime over TLS, a client with the right
 * certificates acquires and calls, and a client without TLS, without a certificate, or from another CA is refused
 * in the handshake, with a failure that says so.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class TlsMeshIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.jars"));
    private static final byte[] JSON = "{\"b\":1,\"a\":2}".getBytes(UTF_8);

    @TempDir
    static Path dir;
    static TlsDirectory certs;
    static TlsDirectory stranger;
    static ServiceProcess broker;
    static ServiceProcess runtime;

    @BeforeAll
    static void startMesh() throws Exception {
        certs = new TlsDirectory(dir.resolve("certs"));
        stranger = new TlsDirectory(dir.resolve("stranger"));
        for (TlsDirectory tls : List.of(certs, stranger)) {
            Cli.Run made = Cli.run("certs", "--out", tls.dir().toString());
            assertThat(made.exit()).as(made.toString()).isZero();
        }
        int brokerPort = ServiceProcess.freePort();
        broker = ServiceProcess.start(jar(LocalMesh.Service.BROKER), dir.resolve("broker.log"), brokerPort,
                certs.clientCredentials(), arguments("broker",
                        "--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker/leases.db")));
        runtime = ServiceProcess.start(jar(LocalMesh.Service.CORE), dir.resolve("core-runtime.log"),
                ServiceProcess.freePort(), certs.clientCredentials(), arguments("core-runtime",
                        "--capmesh.runtime.data-dir=" + dir.resolve("core-runtime"),
                        "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort));
        // registered (runtime -> broker over TLS) and probed healthy (broker -> runtime over TLS)
        var health = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<RuntimeHealth> registered = List.of();
        while (System.nanoTime() < deadline) {
            registered = health.withDeadlineAfter(2, TimeUnit.SECONDS)
                    .health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList();
            if (registered.size() == 1 && registered.get(0).getState() == ServingState.SERVING) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the runtime did not register as SERVING: " + registered + "; see " + dir);
    }

    @AfterAll
    static void stopMesh() throws Exception {
        if (runtime != null) {
            runtime.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void aClientWithTheRightCertificatesAcquiresAndCallsTheRuntime() {
        try (CapabilityClient client = client(b -> b.mtls(certs.ca(), certs.certificate("client"),
                certs.key("client")));
             Capabilities caps = client.acquire(Acquire.require("core.json", "^1"))) {
            assertThat(new String(caps.get("core.json").invoke("canonicalize", JSON), UTF_8))
                    .isEqualTo("{\"a\":2,\"b\":1}");
        }
    }

    @Test
    void aPlaintextClientIsRefused() {
        assertRefused(client(UnaryOperator.identity()), "TLS");
    }

    @Test
    void aClientWithoutACertificateIsRefusedInTheHandshake() {
        assertRefused(client(b -> b.tls(certs.ca())), "TLS handshake failed");
    }

    @Test
    void aClientOfAnotherCaIsRefusedInTheHandshake() {
        // the broker does not trust the client's certificate
        assertRefused(client(b -> b.mtls(certs.ca(), stranger.certificate("client"), stranger.key("client"))),
                "TLS handshake failed");
        // the client does not trust the broker's certificate
        assertRefused(client(b -> b.mtls(stranger.ca(), stranger.certificate("client"), stranger.key("client"))),
                "TLS handshake failed");
    }

    @Test
    void theCommandLineTalksTlsWithTlsAndIsRefusedWithout() {
        String address = "127.0.0.1:" + broker.port();
        Cli.Run listed = Cli.run("list", "--broker", address, "--tls", certs.dir().toString());
        assertThat(listed.exit()).as(listed.toString()).isZero();
        assertThat(listed.out()).contains("core.json");

        Cli.Run invoked = Cli.run("invoke", "core.json", "canonicalize", "--data", "{\"b\":1,\"a\":2}",
                "--broker", address, "--tls", certs.dir().toString());
        assertThat(invoked.exit()).as(invoked.toString()).isZero();
        assertThat(invoked.out()).contains("{\"a\":2,\"b\":1}");

        Cli.Run plaintext = Cli.run("list", "--broker", address);
        assertThat(plaintext.exit()).as(plaintext.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(plaintext.err()).contains("UNAVAILABLE", "--tls");

        Cli.Run missing = Cli.run("list", "--broker", address, "--tls", dir.resolve("nowhere").toString());
        assertThat(missing.exit()).as(missing.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(missing.err()).contains("ca.pem", "capmesh certs");
    }

    private static void assertRefused(CapabilityClient client, String says) {
        try (client) {
            assertThatThrownBy(client::list).isInstanceOfSatisfying(CapabilityCallException.class, e -> {
                assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getMessage()).contains(says);
            });
        }
    }

    private static CapabilityClient client(UnaryOperator<CapabilityClient.Builder> tls) {
        return tls.apply(CapabilityClient.builder().broker("127.0.0.1:" + broker.port()).account("acme")
                .brokerTimeout(Duration.ofSeconds(5))).build();
    }

    private static String[] arguments(String service, String... more) {
        List<String> arguments = new ArrayList<>(certs.serviceArguments(service));
        arguments.addAll(List.of(more));
        return arguments.toArray(String[]::new);
    }

    private static Path jar(LocalMesh.Service service) {
        return JARS.resolve(service.jarName());
    }
}
