package io.capmesh.stub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capmesh.access.BearerToken;
import io.capmesh.access.TokenIssuer;
import io.capmesh.extensions.echo.v1.EchoGrpc;
import io.capmesh.extensions.echo.v1.EchoRequest;
import io.capmesh.proto.client.CallHeaders;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityRequest;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.ServingState;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import io.capmesh.testsupport.Await;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mesh that requires access control, as production runs it: a broker and a core runtime as separate processes,
 * bearer tokens signed by an operator key naming every principal (the runtime registers as {@code runtime}, the
 * broker loads as {@code broker}), leases signed by the broker's key and checked by the runtime on every call.
 */
class AccessMeshIT {

    private static final Path BROKER = Path.of(System.getProperty("capmesh.broker.jar"));
    private static final Path RUNTIME = Path.of(System.getProperty("capmesh.runtime.jar"));
    private static final Duration TOKEN_LIFE = Duration.ofHours(1);

    @TempDir
    static Path dir;
    static ServiceProcess broker;
    static ServiceProcess runtime;
    static TokenIssuer operator;

    @BeforeAll
    static void startMesh() throws Exception {
        KeyPair operatorKey = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
        KeyPair brokerKey = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
        operator = new TokenIssuer(operatorKey, Clock.systemUTC());
        Path operatorPublic = Files.writeString(dir.resolve("operator.pem"),
                SigningKeys.toPem(operatorKey.getPublic()));
        Path brokerPublic = Files.writeString(dir.resolve("broker.pem"), SigningKeys.toPem(brokerKey.getPublic()));
        Path brokerPair = Files.writeString(dir.resolve("broker-key.pem"), SigningKeys.toPem(brokerKey));
        Path brokerToken = Files.writeString(dir.resolve("broker.token"), operator.accessToken("broker", TOKEN_LIFE));
        Path runtimeToken = Files.writeString(dir.resolve("runtime.token"),
                operator.accessToken("runtime", TOKEN_LIFE));

        int brokerPort = ServiceProcess.freePort();
        List<ServiceProcess> mesh = ServiceProcess.startTogether(List.of(
                () -> ServiceProcess.start(BROKER, dir.resolve("broker.log"), brokerPort,
                        "--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker/leases.db"),
                        "--capmesh.broker.heartbeat-interval=300ms",
                        "--capmesh.broker.lease-signing-key=" + brokerPair,
                        "--capmesh.access.mode=required",
                        "--capmesh.access.token-issuers=" + operatorPublic,
                        "--capmesh.access.token-file=" + brokerToken,
                        "--capmesh.access.principals.runtime.roles=runtime",
                        "--capmesh.access.principals.shop.roles=acquire",
                        "--capmesh.access.principals.shop.accounts=shop"),
                () -> ServiceProcess.start(RUNTIME, dir.resolve("runtime.log"),
                        "--capmesh.runtime.data-dir=" + dir.resolve("runtime"),
                        "--capmesh.runtime.broker.address=127.0.0.1:" + brokerPort,
                        "--capmesh.runtime.available=classpath*:nothing/*.jar",
                        "--capmesh.access.mode=required",
                        "--capmesh.access.token-issuers=" + operatorPublic,
                        "--capmesh.access.lease-issuers=" + brokerPublic,
                        "--capmesh.access.token-file=" + runtimeToken,
                        "--capmesh.access.principals.ops.roles=deploy",
                        "--capmesh.access.principals.broker.roles=deploy")));
        broker = mesh.get(0);
        runtime = mesh.get(1);
        var health = CapabilityBrokerGrpc.newBlockingStub(broker.channel())
                .withCallCredentials(BearerToken.of(operator.accessToken("shop", TOKEN_LIFE)));
        Await.until("the runtime registered with its token", Duration.ofSeconds(20), () -> health
                .health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList().stream()
                .anyMatch(r -> r.getState() == ServingState.SERVING));
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
    void aStubWithItsTokenAcquiresAndCallsTheRuntimeWithTheLease() {
        try (CapabilityClient shop = client("shop", "shop");
             Capabilities caps = shop.acquire(Acquire.require("core.echo"))) {
            CapabilityHandle echo = caps.get("core.echo");
            assertThat(echo.invoke("echo", "hi".getBytes(UTF_8))).asString(UTF_8).isEqualTo("hi");
            assertThat(echo.call("Echo", channel -> EchoGrpc.newBlockingStub(channel)
                    .echo(EchoRequest.newBuilder().setText("typed").build())).getText()).isEqualTo("typed");
        }
    }

    @Test
    void withoutCredentialsNothingButHealthChecksIsAnswered() {
        assertThat(HealthGrpc.newBlockingStub(runtime.channel()).check(HealthCheckRequest.getDefaultInstance())
                .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertCode(() -> CapabilityBrokerGrpc.newBlockingStub(broker.channel())
                        .health(BrokerHealthRequest.getDefaultInstance()),
                Status.Code.UNAUTHENTICATED, "needs credentials");
        try (CapabilityClient anonymous = CapabilityClient.builder().broker("127.0.0.1:" + broker.port())
                .account("shop").build()) {
            assertThatThrownBy(() -> anonymous.acquire(Acquire.require("core.echo")))
                    .isInstanceOfSatisfying(CapabilityCallException.class,
                            e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED));
        }
        String stranger = new TokenIssuer(SigningKeys.generate(SignatureAlgorithm.ECDSA_P256), Clock.systemUTC())
                .accessToken("ops", TOKEN_LIFE);
        assertCode(() -> runtime(stranger, null).unload(UnloadRequest.newBuilder().setExtensionId("core-echo").build()),
                Status.Code.UNAUTHENTICATED, "does not trust");
    }

    @Test
    void aPrincipalTakesLeasesOnlyForItsOwnAccounts() {
        try (CapabilityClient crossing = client("shop", "bank")) {
            assertThatThrownBy(() -> crossing.acquire(Acquire.require("core.echo")))
                    .isInstanceOfSatisfying(CapabilityCallException.class, e -> {
                        assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
                        assertThat(e).hasMessageContaining("shop may not act for account 'bank'");
                    });
        }
        AcquireResponse shopLease = acquire("core.echo");
        assertCode(() -> brokerAs("shop").release(ReleaseRequest.newBuilder().setLeaseId(shopLease.getLeaseId())
                .setAccount("bank").build()), Status.Code.PERMISSION_DENIED, "may not act for account 'bank'");
    }

    @Test
    void controlPlaneCallsNeedTheDeployRoleAndAreAudited() throws Exception {
        String shop = operator.accessToken("shop", TOKEN_LIFE);
        assertCode(() -> runtime(shop, null).unload(UnloadRequest.newBuilder().setExtensionId("no-such").build()),
                Status.Code.PERMISSION_DENIED, "shop (token) lacks the role deploy");
        String ops = operator.accessToken("ops", TOKEN_LIFE);
        // past the access check: the runtime itself answers that there is no such extension
        assertCode(() -> runtime(ops, null).unload(UnloadRequest.newBuilder().setExtensionId("no-such").build()),
                Status.Code.NOT_FOUND, "no-such");

        Await.until("both unloads in the runtime's audit log", Duration.ofSeconds(10),
                () -> audit(runtime).stream().filter(a -> a.get("method").asText().endsWith("/Unload")).count() >= 2);
        assertThat(audit(runtime)).filteredOn(a -> a.get("method").asText().equals("capmesh.v1.RuntimeService/Unload"))
                .extracting(a -> a.get("principal").asText() + " " + a.get("via").asText() + " "
                        + a.get("result").asText())
                .contains("shop token PERMISSION_DENIED", "ops token NOT_FOUND");
        assertThat(audit(runtime)).allSatisfy(a -> assertThat(a.has("at") && a.has("peer")).isTrue());
    }

    @Test
    void theRuntimeChecksTheLeaseOnEveryCall() {
        AcquireResponse echoLease = acquire("core.echo");
        InvokeRequest echo = InvokeRequest.newBuilder().setCapability("core.echo").setMethod("echo")
                .setPayload(ByteString.copyFromUtf8("x")).build();
        assertThat(runtime(null, echoLease.getLeaseToken()).invoke(echo).getPayload().toStringUtf8()).isEqualTo("x");

        assertCode(() -> runtime(null, null).invoke(echo), Status.Code.UNAUTHENTICATED, "capmesh-lease");
        AcquireResponse jsonLease = acquire("core.json");
        assertCode(() -> runtime(null, jsonLease.getLeaseToken()).invoke(echo),
                Status.Code.PERMISSION_DENIED, "does not cover core.echo");
        assertCode(() -> EchoGrpc.newBlockingStub(runtimeChannel(null, jsonLease.getLeaseToken()))
                        .echo(EchoRequest.newBuilder().setText("x").build()),
                Status.Code.PERMISSION_DENIED, "does not cover core.echo");
        String forged = jsonLease.getLeaseToken().substring(0, jsonLease.getLeaseToken().lastIndexOf('.') + 1)
                + echoLease.getLeaseToken().substring(echoLease.getLeaseToken().lastIndexOf('.') + 1);
        assertCode(() -> runtime(null, forged).invoke(echo), Status.Code.UNAUTHENTICATED, "does not verify");
    }

    @Test
    void aReleasedLeaseIsRefusedByTheRuntimeOnceTheBrokerHasToldIt() throws Exception {
        AcquireResponse lease = acquire("core.echo");
        InvokeRequest echo = InvokeRequest.newBuilder().setCapability("core.echo").setMethod("echo")
                .setPayload(ByteString.copyFromUtf8("x")).build();
        assertThat(runtime(null, lease.getLeaseToken()).invoke(echo).getPayload().toStringUtf8()).isEqualTo("x");

        brokerAs("shop").release(ReleaseRequest.newBuilder().setLeaseId(lease.getLeaseId()).setAccount("shop").build());
        // the runtime learns releases with its next heartbeat (every 300 ms here)
        Await.until("the replayed lease is refused", Duration.ofSeconds(10), () -> {
            try {
                runtime(null, lease.getLeaseToken()).invoke(echo);
                return false;
            } catch (StatusRuntimeException e) {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(e).hasMessageContaining("lease " + lease.getLeaseId() + " was released");
                return true;
            }
        });
    }

    private static CapabilityClient client(String principal, String account) {
        return CapabilityClient.builder().broker("127.0.0.1:" + broker.port()).account(account)
                .credentials(CompositeChannelCredentials.create(InsecureChannelCredentials.create(),
                        BearerToken.of(operator.accessToken(principal, TOKEN_LIFE))))
                .build();
    }

    private static CapabilityBrokerGrpc.CapabilityBrokerBlockingStub brokerAs(String principal) {
        return CapabilityBrokerGrpc.newBlockingStub(broker.channel())
                .withCallCredentials(BearerToken.of(operator.accessToken(principal, TOKEN_LIFE)));
    }

    private static AcquireResponse acquire(String capability) {
        AcquireResponse granted = brokerAs("shop").acquire(AcquireRequest.newBuilder().setAccount("shop")
                .setTimeoutMillis(5_000)
                .addRequired(CapabilityRequest.newBuilder().setName(capability)).build());
        assertThat(granted.getLeaseToken()).isNotEmpty();
        return granted;
    }

    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime(String bearer, String lease) {
        return RuntimeServiceGrpc.newBlockingStub(runtimeChannel(bearer, lease));
    }

    private static Channel runtimeChannel(String bearer, String lease) {
        Metadata headers = new Metadata();
        if (bearer != null) {
            headers.put(CallHeaders.AUTHORIZATION, "Bearer " + bearer);
        }
        if (lease != null) {
            headers.put(CallHeaders.LEASE, lease);
        }
        return ClientInterceptors.intercept(runtime.channel(), MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static void assertCode(ThrowableAssert.ThrowingCallable call, Status.Code code, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e).hasMessageContaining(message);
        });
    }

    /** The JSON audit lines of a service's log. */
    private static List<JsonNode> audit(ServiceProcess service) {
        Path log = service == runtime ? dir.resolve("runtime.log") : dir.resolve("broker.log");
        ObjectMapper json = new ObjectMapper();
        List<String> lines;
        try {
            lines = Files.readAllLines(log);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return lines.stream().filter(line -> line.contains("capmesh.audit"))
                .map(line -> {
                    try {
                        return json.readTree(line.substring(line.indexOf('{')));
                    } catch (Exception e) {
                        throw new AssertionError("not a JSON audit line: " + line, e);
                    }
                }).toList();
    }
}
