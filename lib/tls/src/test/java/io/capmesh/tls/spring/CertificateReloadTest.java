package io.capmesh.tls.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.grpc.server.GlobalServerInterceptor;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;

/**
 * A Spring gRPC server on 127.0.0.1 requiring mutual TLS with the bundle {@value io.capmesh.tls.spring.TlsAutoConfiguration#BUNDLE}, whose
 * files are a Kubernetes-style Secret volume. The Secret is renewed (certificate B of the same CA replaces A) while
 * the server runs: new connections see B, a connection made before keeps working, and the service's own channel
 * credentials present B on their next connection.
 */
class CertificateReloadTest {

    @TempDir
    Path dir;

    TestCa ca;
    TestCa.Issued a;
    TestCa.Issued b;
    TestCa.Issued client;
    SecretVolume secret;
    ConfigurableApplicationContext service;
    int port;

    @BeforeEach
    void startServiceWithCertificateA() throws Exception {
        ca = new TestCa("test CA");
        a = ca.issue("service A");
        b = ca.issue("service B");
        client = ca.issue("client");
        secret = new SecretVolume(dir.resolve("secret"), ca);
        secret.publish(a);
        ca.write(client, dir.resolve("client"));
        service = new SpringApplicationBuilder(Service.class).web(WebApplicationType.NONE).run(
                "--spring.grpc.server.address=127.0.0.1",
                "--spring.grpc.server.port=0",
                "--spring.grpc.server.ssl.bundle=" + TlsAutoConfiguration.BUNDLE,
                "--spring.grpc.server.ssl.client-auth=require",
                "--capmesh.tls.certificate=" + secret.file("tls.crt"),
                "--capmesh.tls.private-key=" + secret.file("tls.key"),
                "--capmesh.tls.ca=" + secret.file("ca.crt"),
                "--capmesh.tls.refresh-period=100ms");
        port = service.getBean(Service.class).port;
    }

    @AfterEach
    void stopService() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void newConnectionsSeeTheRenewedCertificateAndEstablishedOnesKeepWorking() throws Exception {
        ChannelCredentials clientTls = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("client/ca.crt")
                .toFile()).keyManager(dir.resolve("client/tls.crt").toFile(), dir.resolve("client/tls.key").toFile())
                .build();
        ManagedChannel before = channel(clientTls);
        try {
            assertThat(serverSerial(before)).isEqualTo(a.serial());

            secret.publish(b);

            assertThat(eventually(() -> {
                ManagedChannel fresh = channel(clientTls);
                try {
                    return serverSerial(fresh);
                } finally {
                    fresh.shutdownNow();
                }
            }, b.serial())).isEqualTo(b.serial());
            // the connection made before the renewal is the same one, still on A, and still serves calls
            assertThat(serverSerial(before)).isEqualTo(a.serial());
        } finally {
            before.shutdownNow();
        }
    }

    @Test
    void theServicesOwnChannelsPresentTheRenewedCertificate() throws Exception {
        // made once, as the broker and the runtimes make theirs, and used for every connection after
        ChannelCredentials own = OutgoingTls.credentials(service.getEnvironment(), service.getBean(SslBundles.class));
        ManagedChannel before = channel(own);
        try {
            assertThat(clientSerialSeenByServer(before)).isEqualTo(a.serial());

            secret.publish(b);

            assertThat(eventually(() -> {
                ManagedChannel fresh = channel(own);
                try {
                    return clientSerialSeenByServer(fresh);
                } finally {
                    fresh.shutdownNow();
                }
            }, b.serial())).isEqualTo(b.serial());
        } finally {
            before.shutdownNow();
        }
    }

    @Test
    void aClientWithoutACertificateIsRefused() throws Exception {
        ManagedChannel anonymous = channel(TlsChannelCredentials.newBuilder()
                .trustManager(dir.resolve("client/ca.crt").toFile()).build());
        try {
            assertThat(Status.fromThrowable(catchCall(anonymous)).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        } finally {
            anonymous.shutdownNow();
        }
    }

    private ManagedChannel channel(ChannelCredentials credentials) {
        return NettyChannelBuilder.forTarget("127.0.0.1:" + port, credentials).build();
    }

    /** The serial of the certificate the server presented on the connection this call went over. */
    private static BigInteger serverSerial(Channel channel) {
        AtomicReference<SSLSession> session = new AtomicReference<>();
        HealthGrpc.newBlockingStub(channel).withInterceptors(new SessionCapture(session))
                .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
        try {
            return ((X509Certificate) session.get().getPeerCertificates()[0]).getSerialNumber();
        } catch (SSLPeerUnverifiedException e) {
            throw new AssertionError("the server presented no certificate", e);
        }
    }

    /** The serial of the certificate this channel presented, as the server saw it. */
    private BigInteger clientSerialSeenByServer(Channel channel) {
        HealthCheckResponse response = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        return service.getBean(ClientCertificates.class).last.get();
    }

    private static Throwable catchCall(Channel channel) {
        try {
            HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance());
            throw new AssertionError("the call went through");
        } catch (RuntimeException e) {
            return e;
        }
    }

    /** The value once it is {@code wanted}, or the last one seen after the renewal had ample time to be read. */
    private static BigInteger eventually(Supplier<BigInteger> value, BigInteger wanted) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        BigInteger seen = value.get();
        while (!seen.equals(wanted) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            seen = value.get();
        }
        return seen;
    }

    private record SessionCapture(AtomicReference<SSLSession> session) implements ClientInterceptor {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    ClientCall<Q, R> call = delegate();
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onHeaders(Metadata metadata) {
                            session.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                            super.onHeaders(metadata);
                        }
                    }, headers);
                }
            };
        }
    }

    /** Remembers the certificate the last caller presented. */
    static final class ClientCertificates implements ServerInterceptor {
        final AtomicReference<BigInteger> last = new AtomicReference<>();

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            try {
                SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
                last.set(((X509Certificate) session.getPeerCertificates()[0]).getSerialNumber());
            } catch (SSLPeerUnverifiedException e) {
                last.set(null);
            }
            return next.startCall(call, headers);
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Service {
        volatile int port;

        @EventListener
        void started(GrpcServerStartedEvent event) {
            port = event.getPort();
        }

        /** A service, so that Spring gRPC starts a server (and adds the health service the test calls). */
        @Bean
        BindableService nothing() {
            return () -> ServerServiceDefinition.builder("capmesh.test.Nothing").build();
        }

        @Bean
        @GlobalServerInterceptor
        ClientCertificates clientCertificates() {
            return new ClientCertificates();
        }
    }
}
