package io.capmesh.tls.spring;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.ssl.SslManagerBundle;
import org.springframework.core.env.Environment;

/**
 * How a service's own channels (a runtime's registration with the broker, the broker's loads and health probes) are
 * secured: with TLS from the SSL bundle named by {@code capmesh.tls.bundle}, which defaults to the bundle the gRPC
 * server serves with ({@code spring.grpc.server.ssl.bundle}). So one setting secures both directions, and the
 * bundle's certificate is the service's client identity where its peer requires mutual TLS. Empty: plaintext.
 * The channels keep the bundle's managers, so with {@value TlsAutoConfiguration#BUNDLE} each new connection
 * presents and checks what the files hold now.
 */
public final class OutgoingTls {

    static final String BUNDLE = "capmesh.tls.bundle";

    private OutgoingTls() {
    }

    public static ChannelCredentials credentials(Environment environment, SslBundles bundles) {
        String bundle = environment.getProperty(BUNDLE, environment.getProperty("spring.grpc.server.ssl.bundle", ""));
        if (bundle.isBlank()) {
            return InsecureChannelCredentials.create();
        }
        SslManagerBundle managers = bundles.getBundle(bundle).getManagers();
        return TlsChannelCredentials.newBuilder()
                .keyManager(managers.getKeyManagerFactory().getKeyManagers())
                .trustManager(managers.getTrustManagerFactory().getTrustManagers())
                .build();
    }
}
