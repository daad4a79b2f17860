package io.capmesh.tls.spring;

import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.ssl.SslBundleRegistrar;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Registers the service's TLS files as the SSL bundle {@value #BUNDLE}, before anything (the gRPC server, a
 * channel) asks for a bundle.
 */
@AutoConfiguration
@EnableConfigurationProperties(TlsProperties.class)
@ConditionalOnProperty(prefix = "capmesh.tls", name = "certificate")
public class TlsAutoConfiguration {

    /** The name the bundle is registered under. */
    public static final String BUNDLE = "capmesh-tls";

    @Bean(destroyMethod = "close")
    PemFilesBundle capmeshTlsFiles(TlsProperties properties) {
        List<String> missing = new ArrayList<>();
        if (properties.privateKey() == null) {
            missing.add("capmesh.tls.private-key");
        }
        if (properties.ca() == null) {
            missing.add("capmesh.tls.ca");
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("capmesh.tls.certificate is set but " + String.join(" and ", missing)
                    + (missing.size() > 1 ? " are" : " is") + " not");
        }
        return PemFilesBundle.open(properties.certificate(), properties.privateKey(), properties.ca(),
                properties.refreshPeriod());
    }

    @Bean
    SslBundleRegistrar capmeshTlsBundle(PemFilesBundle files) {
        return registry -> registry.registerBundle(BUNDLE, files.bundle());
    }
}
