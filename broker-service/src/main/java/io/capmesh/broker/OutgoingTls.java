package io.capmesh.broker;

import io.grpc.ChannelCredentials;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.core.env.Environment;

/**
 * How the broker's own channels to runtimes (loads, health probes) are secured: the same way as every capmesh
 * service's, see {@link io.capmesh.tls.spring.OutgoingTls}.
 */
final class OutgoingTls {

    private OutgoingTls() {
    }

    static ChannelCredentials credentials(Environment environment, SslBundles bundles) {
        return io.capmesh.tls.spring.OutgoingTls.credentials(environment, bundles);
    }
}
