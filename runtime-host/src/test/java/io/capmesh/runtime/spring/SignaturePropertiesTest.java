package io.capmesh.runtime.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.SigningKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class SignaturePropertiesTest {

    @TempDir
    Path keys;

    @Test
    void signedPackagesAreVerifiedAndUnsignedOnesAcceptedByDefault() {
        var signatures = bind(Map.of()).toSettings().signatures();

        assertThat(signatures.policy()).isEqualTo(SignaturePolicy.VERIFY_IF_SIGNED);
        assertThat(signatures.trusted().isEmpty()).isTrue();
    }

    @Test
    void productionRequiresSignaturesByTheKeysInAMountedDirectory() throws Exception {
        PublicKey release = SigningKeys.generate(SignatureAlgorithm.ED25519).getPublic();
        Files.writeString(keys.resolve("release.pem"), SigningKeys.toPem(release));

        var signatures = bind(Map.of("capmesh.runtime.signatures.policy", "required",
                "capmesh.runtime.signatures.trusted-keys", keys.toString())).toSettings().signatures();

        assertThat(signatures.policy()).isEqualTo(SignaturePolicy.REQUIRED);
        assertThat(signatures.trusted().ids()).containsExactly(SigningKeys.keyId(release));
    }

    @Test
    void aTrustedKeyThatCannotBeReadStopsTheStart() {
        RuntimeProperties properties = bind(Map.of("capmesh.runtime.signatures.trusted-keys", "not-a-key"));

        assertThatThrownBy(properties::toSettings).hasMessageContaining("capmesh.runtime.signatures.trusted-keys")
                .hasMessageContaining("not-a-key");
    }

    private static RuntimeProperties bind(Map<String, String> properties) {
        return new Binder(new MapConfigurationPropertySource(properties))
                .bindOrCreate("capmesh.runtime", RuntimeProperties.class);
    }
}
