package io.capmesh.access;

import io.capmesh.proto.client.CallHeaders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import io.capmesh.signing.TrustedKeys;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.testing.TlsTesting;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real server on 127.0.0.1 with mutual TLS (grpc-java's test certificates) and the access interceptor in front
 * of three methods, one per kind of requirement: a control-plane method that needs the deploy role, a read that
 * needs any principal, and a data-plane method that needs a lease and asks its own questions of the call's access.
 */
class AccessInterceptorTest {

    private static final MethodDescriptor<String, String> DEPLOY = method("test.Runtime/Deploy");
    private static final MethodDescriptor<String, String> LIST = method("test.Runtime/List");
    private static final MethodDescriptor<String, String> INVOKE = method("test.Runtime/Invoke");

    private final Clock clock = Clock.systemUTC();
    private final KeyPair operatorIssuer = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
    private final KeyPair broker = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
    private final KeyPair stranger = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
    private final Revocations revocations = new Revocations();
    private final List<String> audit = new CopyOnWriteArrayList<>();
    private final Handler auditHandler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            audit.add(record.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private Tokens leaseTokens;
    private Server server;
    private ManagedChannel tlsChannel;
    private ManagedChannel mtlsChannel;

    @BeforeEach
    void start() throws IOException {
        Logger.getLogger(AuditLog.LOGGER).addHandler(auditHandler);
        Grants grants = new Grants(Map.of(
                "ops", new Grants.Grant(Set.of(Role.DEPLOY), Set.of()),
                "testclient", new Grants.Grant(Set.of(Role.DEPLOY), Set.of()),
                "shop", new Grants.Grant(Set.of(Role.ACQUIRE), Set.of("shop"))));
        AccessPolicy policy = method -> switch (method) {
            case "test.Runtime/Deploy" -> Requirement.role(Role.DEPLOY);
            case "test.Runtime/Invoke" -> Requirement.LEASE;
            default -> Requirement.AUTHENTICATED;
        };
        leaseTokens = new Tokens(TrustedKeys.of(List.of(broker.getPublic())), clock);
        AccessInterceptor access = new AccessInterceptor(policy, grants,
                new Tokens(TrustedKeys.of(List.of(operatorIssuer.getPublic())), clock), leaseTokens,
                revocations, Map.of("crypto.keys/import", Role.KEYS), new AuditLog(), clock);
        ServerServiceDefinition service = ServerServiceDefinition.builder("test.Runtime")
                .addMethod(DEPLOY, ServerCalls.asyncUnaryCall((request, out) -> {
                    out.onNext("deployed " + request + " by " + CallAccess.current().principal().name());
                    out.onCompleted();
                }))
                .addMethod(LIST, ServerCalls.asyncUnaryCall((request, out) -> {
                    out.onNext("listed");
                    out.onCompleted();
                }))
                .addMethod(INVOKE, ServerCalls.asyncUnaryCall((request, out) -> {
                    try {
                        String[] capabilityMethod = request.split("/");
                        CallAccess.checkInvoke(capabilityMethod[0], capabilityMethod[1]);
                        out.onNext("invoked " + request);
                        out.onCompleted();
                    } catch (StatusRuntimeException e) {
                        out.onError(e);
                    }
                }))
                .build();
        server = Grpc.newServerBuilderForPort(0, TlsServerCredentials.newBuilder()
                        .keyManager(TlsTesting.loadCert("server1.pem"), TlsTesting.loadCert("server1.key"))
                        .trustManager(TlsTesting.loadCert("ca.pem"))
                        .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build())
                .addService(ServerInterceptors.intercept(service, access))
                .build().start();
        tlsChannel = channel(TlsChannelCredentials.newBuilder().trustManager(TlsTesting.loadCert("ca.pem")).build());
        mtlsChannel = channel(TlsChannelCredentials.newBuilder().trustManager(TlsTesting.loadCert("ca.pem"))
                .keyManager(TlsTesting.loadCert("client.pem"), TlsTesting.loadCert("client.key")).build());
    }

    @AfterEach
    void stop() throws InterruptedException {
        Logger.getLogger(AuditLog.LOGGER).removeHandler(auditHandler);
        tlsChannel.shutdownNow();
        mtlsChannel.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void aControlPlaneCallWithoutCredentialsIsUnauthenticatedAndAudited() {
        assertThatThrownBy(() -> call(tlsChannel, DEPLOY, "echo", Map.of()))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED))
                .hasMessageContaining("client certificate").hasMessageContaining("bearer token");
        assertThat(audit).singleElement().satisfies(line -> assertThat(line)
                .contains("\"principal\":\"anonymous\"", "\"method\":\"test.Runtime/Deploy\"",
                        "\"result\":\"UNAUTHENTICATED\"", "\"at\":\"", "\"peer\":\"/127.0.0.1:"));
    }

    @Test
    void aClientCertificateNamesThePrincipal() {
        assertThat(call(mtlsChannel, DEPLOY, "echo", Map.of())).isEqualTo("deployed echo by testclient");
        assertThat(audit).singleElement().satisfies(line -> assertThat(line)
                .contains("\"principal\":\"testclient\"", "\"via\":\"mtls\"", "\"result\":\"OK\""));
    }

    @Test
    void aBearerTokenNamesThePrincipalAndItsRolesDecide() {
        String ops = new TokenIssuer(operatorIssuer, clock).accessToken("ops", Duration.ofMinutes(5));
        assertThat(call(tlsChannel, DEPLOY, "echo", bearer(ops))).isEqualTo("deployed echo by ops");

        String shop = new TokenIssuer(operatorIssuer, clock).accessToken("shop", Duration.ofMinutes(5));
        assertThatThrownBy(() -> call(tlsChannel, DEPLOY, "echo", bearer(shop)))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("shop (token) lacks the role deploy")
                .hasMessageContaining("capmesh.access.principals.shop.roles");
        assertThat(call(tlsChannel, LIST, "", bearer(shop))).isEqualTo("listed");
        assertThat(audit).hasSize(2);
        assertThat(audit.get(1)).contains("\"principal\":\"shop\"", "\"result\":\"PERMISSION_DENIED\"");
    }

    @Test
    void badBearerTokensAreUnauthenticatedWithTheReason() {
        Clock hourAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        String expired = new TokenIssuer(operatorIssuer, hourAgo).accessToken("ops", Duration.ofMinutes(5));
        String untrusted = new TokenIssuer(stranger, clock).accessToken("ops", Duration.ofMinutes(5));
        String lease = new TokenIssuer(broker, clock).leaseToken(lease("L1", "echo.call"));
        String valid = new TokenIssuer(operatorIssuer, clock).accessToken("ops", Duration.ofMinutes(5));
        int signature = valid.lastIndexOf('.');
        String tampered = valid.substring(0, signature - 4) + "AAAA" + valid.substring(signature); // claims altered

        assertRefused(bearer(expired), Status.Code.UNAUTHENTICATED, "expired");
        assertRefused(bearer(untrusted), Status.Code.UNAUTHENTICATED, "does not trust");
        assertRefused(bearer(lease), Status.Code.UNAUTHENTICATED, "does not trust");
        assertRefused(bearer("not-a-token"), Status.Code.UNAUTHENTICATED, "not a signed JWT");
        assertRefused(bearer(tampered), Status.Code.UNAUTHENTICATED, "");
        assertRefused(Map.of(CallHeaders.AUTHORIZATION, "Basic b3BzOm9wcw=="), Status.Code.UNAUTHENTICATED,
                "Bearer <token>");
    }

    @Test
    void aLeaseTokenSignedByTheOperatorsKeyIsNotALease() {
        // the same key trusted for both would still be refused by audience: here, the lease issuer is not trusted
        String asLease = new TokenIssuer(operatorIssuer, clock).leaseToken(lease("L1", "echo.call"));
        assertThatThrownBy(() -> call(tlsChannel, INVOKE, "echo.call/echo", lease(asLease)))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED))
                .hasMessageContaining("does not trust");
    }

    @Test
    void dataPlaneCallsNeedALeaseCoveringTheCapability() {
        TokenIssuer brokerIssuer = new TokenIssuer(broker, clock);
        String token = brokerIssuer.leaseToken(lease("L1", "echo.call"));
        assertThat(call(tlsChannel, INVOKE, "echo.call/echo", lease(token))).isEqualTo("invoked echo.call/echo");

        assertThatThrownBy(() -> call(tlsChannel, INVOKE, "echo.call/echo", Map.of()))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED))
                .hasMessageContaining("capmesh-lease");
        assertThatThrownBy(() -> call(tlsChannel, INVOKE, "crypto.sign/sign", lease(token)))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("lease L1 does not cover crypto.sign");

        String keys = brokerIssuer.leaseToken(lease("L2", "crypto.keys"));
        assertThat(call(tlsChannel, INVOKE, "crypto.keys/list", lease(keys))).isEqualTo("invoked crypto.keys/list");
        assertThatThrownBy(() -> call(tlsChannel, INVOKE, "crypto.keys/import", lease(keys)))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("lacks the role keys that crypto.keys/import needs");
        assertThat(audit).hasSize(3)
                .allSatisfy(line -> assertThat(line).contains("\"method\":\"test.Runtime/Invoke\""));
    }

    @Test
    void aReleasedOrExpiredLeaseIsNotAcceptedAgain() {
        TokenIssuer brokerIssuer = new TokenIssuer(broker, clock);
        LeaseToken held = lease("L1", "echo.call");
        String token = brokerIssuer.leaseToken(held);
        assertThat(call(tlsChannel, INVOKE, "echo.call/echo", lease(token))).isEqualTo("invoked echo.call/echo");

        revocations.revoke(held.leaseId(), held.expiresAt());
        assertThatThrownBy(() -> call(tlsChannel, INVOKE, "echo.call/echo", lease(token)))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("lease L1 was released");
        assertThat(audit).singleElement().satisfies(line -> assertThat(line)
                .contains("\"detail\":\"lease L1 account shop\"", "\"result\":\"PERMISSION_DENIED\""));

        String expired = brokerIssuer.leaseToken(new LeaseToken("L3", "shop", Set.of("echo.call"),
                Instant.now().minus(Duration.ofMinutes(1))));
        assertThatThrownBy(() -> call(tlsChannel, INVOKE, "echo.call/echo", lease(expired)))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED))
                .hasMessageContaining("lease token expired");
    }

    @Test
    void aRevokedLeaseIsRefusedEvenWhenItsTokenIsCached() {
        LeaseToken held = lease("L1", "echo.call");
        String token = new TokenIssuer(broker, clock).leaseToken(held);
        assertThat(call(tlsChannel, INVOKE, "echo.call/echo", lease(token))).isEqualTo("invoked echo.call/echo");
        assertThat(call(tlsChannel, INVOKE, "echo.call/echo", lease(token))).isEqualTo("invoked echo.call/echo");
        assertThat(leaseTokens.cachedLeases()).isEqualTo(1);

        revocations.revoke(held.leaseId(), held.expiresAt());
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> call(tlsChannel, INVOKE, "echo.call/echo", lease(token)))
                    .satisfies(e -> assertThat(Status.fromThrowable(e).getCode())
                            .isEqualTo(Status.Code.PERMISSION_DENIED))
                    .hasMessageContaining("lease L1 was released");
        }
        assertThat(leaseTokens.cachedLeases()).isEqualTo(1); // refused with its signature still remembered
    }

    @Test
    void grantsSayWhichAccountsAPrincipalMayActFor() {
        Grants grants = new Grants(Map.of("shop", new Grants.Grant(Set.of(Role.ACQUIRE), Set.of("shop")),
                "ops", new Grants.Grant(Set.of(Role.ACQUIRE), Set.of(Grants.ANY_ACCOUNT)),
                "reader", new Grants.Grant(Set.of(), Set.of("shop"))));
        assertThat(grants.mayActFor(new Principal("shop", "token"), "shop")).isTrue();
        assertThat(grants.mayActFor(new Principal("shop", "token"), "bank")).isFalse();
        assertThat(grants.mayActFor(new Principal("ops", "mtls"), "bank")).isTrue();
        assertThat(grants.mayActFor(new Principal("reader", "mtls"), "shop")).isFalse();
        assertThat(grants.mayActFor(new Principal("stranger", "mtls"), "shop")).isFalse();
    }

    private void assertRefused(Map<Metadata.Key<String>, String> headers, Status.Code code, String reason) {
        assertThatThrownBy(() -> call(tlsChannel, DEPLOY, "echo", headers))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(code))
                .hasMessageContaining(reason);
    }

    private static LeaseToken lease(String id, String capability) {
        return new LeaseToken(id, "shop", Set.of(capability), Instant.now().plus(Duration.ofMinutes(1)));
    }

    private static Map<Metadata.Key<String>, String> bearer(String token) {
        return Map.of(CallHeaders.AUTHORIZATION, "Bearer " + token);
    }

    private static Map<Metadata.Key<String>, String> lease(String token) {
        return Map.of(CallHeaders.LEASE, token);
    }

    private ManagedChannel channel(ChannelCredentials credentials) {
        return Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), credentials)
                .overrideAuthority("foo.test.google.fr").build();
    }

    private static String call(ManagedChannel channel, MethodDescriptor<String, String> method, String request,
                               Map<Metadata.Key<String>, String> headers) {
        Metadata metadata = new Metadata();
        headers.forEach(metadata::put);
        return ClientCalls.blockingUnaryCall(ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(metadata)), method, CallOptions.DEFAULT
                .withDeadlineAfter(10, TimeUnit.SECONDS), request);
    }

    private static MethodDescriptor<String, String> method(String name) {
        MethodDescriptor.Marshaller<String> utf8 = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(String value) {
                return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public String parse(InputStream stream) {
                try {
                    return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
        return MethodDescriptor.newBuilder(utf8, utf8).setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(name).build();
    }
}
