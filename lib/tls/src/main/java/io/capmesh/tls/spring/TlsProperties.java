package io.capmesh.tls.spring;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The service's TLS files ({@code capmesh.tls.*}). With a certificate set, they become the SSL bundle
 * {@value TlsAutoConfiguration#BUNDLE}: name it in {@code spring.grpc.server.ssl.bundle} to serve with it, and the
 * service's own channels (to the broker, to the runtimes) call with it too.
 *
 * @param certificate   the service's certificate chain, PEM ({@code tls.crt} of a Kubernetes TLS Secret)
 * @param privateKey    its private key, PEM, unencrypted ({@code tls.key})
 * @param ca            the CA certificates peers are checked against ({@code ca.crt})
 * @param refreshPeriod how often the files are checked for new content; zero: read once, at start
 * @param bundle        the bundle the service's own channels use when not the one its server serves with
 */
@ConfigurationProperties("capmesh.tls")
public record TlsProperties(Path certificate, Path privateKey, Path ca, @DefaultValue("0s") Duration refreshPeriod,
                            String bundle) {
}
