package io.capmesh.broker;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.ssl.SslManagerBundle;
import org.springframework.core.env.Environment;

/**
 * How the broker's own channels to runtimes (loads, health probes) are secured: with TLS from the SSL bundle named
 * by {@code capmesh.tls.bundle}, which defaults to the bundle the gRPC server serves with
 * ({@code spring.grpc.server.ssl.bundle}). So one setting secures both directions, and the bundle's certificate
 * is the broker's client identity where runtimes require mutual TLS. Empty: plaintext. (The runtimes read the same
 * setting; runtime-host has its own copy of these lines, the broker does not depend on it.)
 */
final class OutgoingTls {

    private OutgoingTls() {
    }

    static ChannelCredentials credentials(Environment environment, SslBundles bundles) {
        String bundle = environment.getProperty("capmesh.tls.bundle",
                environment.getProperty("spring.grpc.server.ssl.bundle", ""));
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
