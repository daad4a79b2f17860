package io.capmesh.crypto;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code capmesh.crypto.*}: where the crypto runtime keeps its keys and what encrypts them at rest.
 *
 * @param masterKey         32 random bytes in base64 ({@code openssl rand -base64 32}); application.yaml reads the
 *                          environment variable {@code CAPMESH_CRYPTO_MASTER_KEY} into it
 * @param keyStore          the encrypted key store file; default {@code <capmesh.runtime.data-dir>/keys.store}
 * @param generateMasterKey without a master key, use (and on first start make) a development key in
 *                          {@code master.key} next to the store, with a warning; false: refuse to start instead
 */
@ConfigurationProperties("capmesh.crypto")
public record CryptoProperties(String masterKey, Path keyStore, @DefaultValue("true") boolean generateMasterKey) {

    @Override
    public String toString() {
        return "CryptoProperties[masterKey=" + (masterKey == null || masterKey.isBlank() ? "none" : "(set)")
                + ", keyStore=" + keyStore + ", generateMasterKey=" + generateMasterKey + "]";
    }
}
