package io.capmesh.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.signing.PackageVerifier.Reason;
import io.capmesh.signing.PackageVerifier.Refused;
import io.capmesh.signing.PackageVerifier.Unchecked;
import io.capmesh.signing.PackageVerifier.Verdict;
import io.capmesh.signing.PackageVerifier.Verified;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PackageSignatureTest {

    private static final KeyPair ED25519 = SigningKeys.generate(SignatureAlgorithm.ED25519);
    private static final KeyPair P256 = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);

    @ParameterizedTest
    @EnumSource(SignatureAlgorithm.class)
    void aSignedJarVerifiesWithItsKey(SignatureAlgorithm algorithm) throws Exception {
        KeyPair key = algorithm == SignatureAlgorithm.ED25519 ? ED25519 : P256;
        byte[] signed = PackageSigner.sign(Jars.extension(), key);

        Verdict verdict = verifier(SignaturePolicy.REQUIRED, key).verify(Jars.contents(signed));

        assertThat(verdict).isEqualTo(new Verified(SigningKeys.keyId(key.getPublic()), algorithm));
        Map<String, String> entries = Jars.entries(signed);
        assertThat(entries.keySet()).containsExactly("META-INF/MANIFEST.MF", "META-INF/capmesh/extension.json",
                "io/capmesh/demo/Demo.class", PackageSignature.PATH);
        assertThat(entries.get(PackageSignature.PATH)).contains("\"algorithm\" : \"" + algorithm.label() + "\"");
    }

    @Test
    void signingAgainReplacesTheSignature() throws Exception {
        byte[] twice = PackageSigner.sign(PackageSigner.sign(Jars.extension(), P256), ED25519);

        assertThat(Jars.entries(twice).keySet()).containsOnlyOnce(PackageSignature.PATH);
        assertThat(verifier(SignaturePolicy.REQUIRED, ED25519).verify(Jars.contents(twice)))
                .isInstanceOf(Verified.class);
    }

    @Test
    void anAlteredEntryIsNamed() throws Exception {
        Map<String, String> entries = Jars.entries(PackageSigner.sign(Jars.extension(), ED25519));
        entries.put("io/capmesh/demo/Demo.class", "other code");

        assertThat(refusal(Jars.jar(entries))).isEqualTo(Reason.TAMPERED).hasToString("TAMPERED");
        assertThat(message(Jars.jar(entries))).contains("entry io/capmesh/demo/Demo.class was altered");
    }

    @Test
    void anAddedOrRemovedEntryIsNamed() throws Exception {
        Map<String, String> added = Jars.entries(PackageSigner.sign(Jars.extension(), ED25519));
        added.put("io/capmesh/demo/Backdoor.class", "evil");
        Map<String, String> removed = Jars.entries(PackageSigner.sign(Jars.extension(), ED25519));
        removed.remove("META-INF/MANIFEST.MF");

        assertThat(message(Jars.jar(added))).contains("entry io/capmesh/demo/Backdoor.class was added");
        assertThat(message(Jars.jar(removed))).contains("entry META-INF/MANIFEST.MF was removed");
    }

    @Test
    void anEditedListingDoesNotVerify() throws Exception {
        Map<String, String> entries = Jars.entries(PackageSigner.sign(Jars.extension(), ED25519));
        entries.put("io/capmesh/demo/Demo.class", "other code");
        String digest = java.util.HexFormat.of().formatHex(PackageContents.newDigest()
                .digest("other code".getBytes(StandardCharsets.UTF_8)));
        String json = entries.get(PackageSignature.PATH);
        String edited = json.replaceFirst("(\"io/capmesh/demo/Demo.class\" : \")[0-9a-f]+", "$1" + digest);
        assertThat(edited).isNotEqualTo(json);
        entries.put(PackageSignature.PATH, edited);

        assertThat(message(Jars.jar(entries))).contains("signature does not verify with key")
                .contains("was altered after signing");
    }

    @Test
    void aKeyThatIsNotTrustedIsNamed() throws Exception {
        byte[] signed = PackageSigner.sign(Jars.extension(), P256);

        Verdict verdict = verifier(SignaturePolicy.VERIFY_IF_SIGNED, ED25519).verify(Jars.contents(signed));

        assertThat(verdict).isInstanceOfSatisfying(Refused.class, refused -> {
            assertThat(refused.reason()).isEqualTo(Reason.UNTRUSTED_KEY);
            assertThat(refused.message()).contains(SigningKeys.keyId(P256.getPublic()))
                    .contains("trusted: " + SigningKeys.keyId(ED25519.getPublic()))
                    .contains("capmesh.runtime.signatures.trusted-keys");
        });
    }

    @Test
    void aSignatureClaimingAnotherKeysIdDoesNotVerify() throws Exception {
        // the listing names the trusted key, but the signature was made by another one
        Map<String, String> entries = Jars.entries(PackageSigner.sign(Jars.extension(), ED25519));
        KeyPair other = SigningKeys.generate(SignatureAlgorithm.ED25519);
        Map<String, String> forged = Jars.entries(PackageSigner.sign(Jars.extension(), other));
        String forgedSignature = forged.get(PackageSignature.PATH).replace(SigningKeys.keyId(other.getPublic()),
                SigningKeys.keyId(ED25519.getPublic()));
        entries.put(PackageSignature.PATH, forgedSignature);

        assertThat(refusal(Jars.jar(entries))).isEqualTo(Reason.TAMPERED);
    }

    @ParameterizedTest
    @EnumSource(SignaturePolicy.class)
    void anUnsignedJarUnderEachPolicy(SignaturePolicy policy) {
        Verdict verdict = verifier(policy, ED25519).verify(Jars.contents(Jars.extension()));

        switch (policy) {
            case OFF, VERIFY_IF_SIGNED -> assertThat(verdict).isInstanceOf(Unchecked.class);
            case REQUIRED -> assertThat(verdict).isInstanceOfSatisfying(Refused.class, refused -> {
                assertThat(refused.reason()).isEqualTo(Reason.UNSIGNED);
                assertThat(refused.message()).contains("capmesh sign");
            });
        }
    }

    @ParameterizedTest
    @EnumSource(SignaturePolicy.class)
    void aTamperedJarUnderEachPolicy(SignaturePolicy policy) throws Exception {
        Map<String, String> entries = Jars.entries(PackageSigner.sign(Jars.extension(), ED25519));
        entries.put("META-INF/capmesh/extension.json", "{\"id\": \"evil\"}");

        Verdict verdict = verifier(policy, ED25519).verify(Jars.contents(Jars.jar(entries)));

        if (policy == SignaturePolicy.OFF) {
            assertThat(verdict).isInstanceOf(Unchecked.class);
        } else {
            assertThat(verdict).isInstanceOfSatisfying(Refused.class, refused -> assertThat(refused.message())
                    .contains("entry META-INF/capmesh/extension.json was altered"));
        }
    }

    @Test
    void aMalformedSignatureFileIsRefused() {
        Map<String, String> entries = Jars.entries(Jars.extension());
        entries.put(PackageSignature.PATH, "{\"format\": 1, \"algorithm\": \"RSA\"}");

        assertThat(message(Jars.jar(entries))).contains(PackageSignature.PATH);
    }

    @Test
    void aJarNamingAnEntryTwiceCannotBeSigned() {
        PackageContents contents = new PackageContents();
        contents.add("a.class", new byte[32]);
        contents.add("a.class", new byte[32]);
        contents.signature("{}".getBytes(StandardCharsets.UTF_8));

        assertThat(verifier(SignaturePolicy.REQUIRED, ED25519).verify(contents))
                .isInstanceOfSatisfying(Refused.class, refused -> assertThat(refused.message())
                        .contains("[a.class] more than once"));
    }

    @Test
    void keyPairsRoundTripThroughPem() {
        KeyPair read = SigningKeys.readKeyPair(SigningKeys.toPem(P256));

        assertThat(read.getPublic()).isEqualTo(P256.getPublic());
        assertThat(SigningKeys.keyId(read.getPublic())).hasSize(32).isEqualTo(SigningKeys.keyId(P256.getPublic()));
        assertThatThrownBy(() -> SigningKeys.readKeyPair(SigningKeys.toPem(P256.getPublic())))
                .hasMessageContaining("no PRIVATE KEY block");
        String mismatched = SigningKeys.toPem(ED25519).replace(SigningKeys.toPem(ED25519.getPublic()),
                SigningKeys.toPem(SigningKeys.generate(SignatureAlgorithm.ED25519).getPublic()));
        assertThatThrownBy(() -> SigningKeys.readKeyPair(mismatched)).hasMessageContaining("is not the public key");
    }

    @Test
    void trustedKeysAreReadFromPemBase64FilesAndDirectories(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Files.writeString(dir.resolve("release.pem"), SigningKeys.toPem(ED25519.getPublic()));
        java.nio.file.Files.writeString(dir.resolve("notes.txt"), "not a key");
        String base64 = java.util.Base64.getEncoder().encodeToString(P256.getPublic().getEncoded());

        assertThat(TrustedKeys.read(List.of(dir.toString())).ids())
                .containsExactly(SigningKeys.keyId(ED25519.getPublic()));
        assertThat(TrustedKeys.read(List.of(dir.resolve("release.pem").toString(), base64)).ids())
                .containsExactlyInAnyOrder(SigningKeys.keyId(ED25519.getPublic()), SigningKeys.keyId(P256.getPublic()));
        assertThat(TrustedKeys.read(List.of(SigningKeys.toPem(P256.getPublic()))).find(
                SigningKeys.keyId(P256.getPublic()))).contains(P256.getPublic());
        assertThatThrownBy(() -> TrustedKeys.read(List.of("/no/such/key.pem")))
                .hasMessageContaining("trusted key '/no/such/key.pem'");
    }

    private static PackageVerifier verifier(SignaturePolicy policy, KeyPair trusted) {
        return new PackageVerifier(policy, TrustedKeys.of(List.of(trusted.getPublic())));
    }

    private static Reason refusal(byte[] jar) {
        Verdict verdict = verifier(SignaturePolicy.REQUIRED, ED25519).verify(Jars.contents(jar));
        assertThat(verdict).isInstanceOf(Refused.class);
        return ((Refused) verdict).reason();
    }

    private static String message(byte[] jar) {
        Verdict verdict = verifier(SignaturePolicy.REQUIRED, ED25519).verify(Jars.contents(jar));
        assertThat(verdict).isInstanceOf(Refused.class);
        return ((Refused) verdict).message();
    }
}
