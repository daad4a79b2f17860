package io.capmesh.runtime.spring;

import io.grpc.ChannelCredentials;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.core.env.Environment;

/**
 * How the runtime's own outgoing channels (its registration with the broker) are secured: the same way as every
 * capmesh service's, see {@link io.capmesh.tls.spring.OutgoingTls}.
 */
final class OutgoingTls {

    private OutgoingTls() {
    }

    static ChannelCredentials credentials(Environment environment, SslBundles bundles) {
        return io.capmesh.tls.spring.OutgoingTls.credentials(environment, bundles);
    }
}
