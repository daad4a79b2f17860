package io.capmesh.crypto;

import io.capmesh.crypto.keys.KeyStore;
import io.capmesh.crypto.store.EncryptedFileKeyStore;
import io.capmesh.crypto.store.MasterKey;
import io.capmesh.runtime.HostServices;
import io.capmesh.runtime.spring.RuntimeProperties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.nio.file.Path;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The crypto tier: hashing, MACs, signatures, AEAD and key management, all in one extension on the runtime host.
 *
 * <p>What must outlive a swap of that extension stays in the host: BouncyCastle (a shared package, warm for every
 * version) and the encrypted key store, lent to the extension as a host service. So keys never leave this process
 * and never depend on which version of the code is loaded.
 */
@SpringBootApplication
@EnableConfigurationProperties(CryptoProperties.class)
public class CryptoRuntimeApplication {

    public static void main(String[] args) {
        SpringApplication.run(CryptoRuntimeApplication.class, args);
    }

    /** Opened before any extension loads: without its master key the runtime does not start at all. */
    @Bean
    EncryptedFileKeyStore keyStore(CryptoProperties crypto, RuntimeProperties runtime) {
        Path file = crypto.keyStore() != null ? crypto.keyStore() : runtime.dataDir().resolve("keys.store");
        return EncryptedFileKeyStore.open(file, MasterKey.resolve(crypto.masterKey(), file,
                crypto.generateMasterKey()));
    }

    @Bean
    HostServices hostServices(KeyStore keys) {
        return new HostServices().register(KeyStore.class, "", keys);
    }

    @Bean
    MeterBinder keyStoreMetrics(KeyStore keys) {
        return registry -> Gauge.builder("capmesh.crypto.keys", keys, store -> store.list().size())
                .description("keys in the crypto runtime's key store").register(registry);
    }
}
