package io.capmesh.extensions.crypto;

import static io.capmesh.extensions.crypto.Calls.assertShowsNone;
import static io.capmesh.extensions.crypto.Calls.hex;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyResponse;
import io.capmesh.extensions.crypto.v1.ImportKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignResponse;
import io.capmesh.extensions.crypto.v1.VerifySignatureRequest;
import io.capmesh.extensions.crypto.v1.VerifySignatureResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * crypto.sign against RFC 8032 (Ed25519) and RFC 6979 (deterministic ECDSA on P-256 with SHA-256), checked once more
 * by the JDK's own verifiers on the exported public keys; and what it refuses.
 */
class SignTest {

    /** RFC 6979 appendix A.2.5: the P-256 private key x and its public key (Ux, Uy). */
    private static final String P256_X = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
    private static final String P256_U = "04"
            + "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
            + "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";

    private final Calls calls = new Calls();

    SignTest() throws Exception {
    }

    @AfterEach
    void close() throws Exception {
        calls.close();
    }

    /** RFC 8032 section 7.1, tests 1 to 3: secret key, public key, message, signature. */
    @ParameterizedTest(name = "RFC 8032 7.1 test {index}")
    @CsvSource(delimiter = '|', textBlock = """
            9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 | d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a | ''   | e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b
            4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb | 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c | 72   | 92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00
            c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7 | fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025 | af82 | 6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a
            """)
    void matchesRfc8032(String secret, String publicKey, String message, String signature) throws Exception {
        String keyId = calls.importKey(KeyType.ED25519, hex(secret));
        ExportPublicKeyResponse exported = calls.exportPublicKey(keyId);

        assertThat(hex(exported.getRaw())).isEqualTo(publicKey);
        assertThat(hex(sign(keyId, hex(message)))).isEqualTo(signature);
        verify(keyId, hex(message), hex(signature));
        // a public key alone verifies too, and so does the JDK with the exported key
        verify(calls.importPublicKey(KeyType.ED25519, hex(publicKey)), hex(message), hex(signature));
        assertThat(jdkVerifies("Ed25519", exported, hex(message), hex(signature))).isTrue();
    }

    /** RFC 6979 appendix A.2.5, P-256 with SHA-256: the signatures of "sample" and "test", r then s. */
    @ParameterizedTest(name = "RFC 6979 A.2.5 \"{0}\"")
    @CsvSource(delimiter = '|', textBlock = """
            sample | efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8
            test   | f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083
            """)
    void matchesRfc6979(String message, String signature) throws Exception {
        String keyId = calls.importKey(KeyType.ECDSA_P256, hex(P256_X));
        ExportPublicKeyResponse exported = calls.exportPublicKey(keyId);
        byte[] text = message.getBytes(StandardCharsets.US_ASCII);

        assertThat(hex(exported.getRaw())).isEqualTo(P256_U);
        assertThat(hex(sign(keyId, text))).isEqualTo(signature);
        verify(keyId, text, hex(signature));
        assertThat(jdkVerifies("SHA256withECDSAinP1363Format", exported, text, hex(signature))).isTrue();
    }

    @Test
    void generatedKeysSignAndVerifyAndTheJdkAgrees() throws Exception {
        for (KeyType type : new KeyType[] {KeyType.ED25519, KeyType.ECDSA_P256}) {
            String keyId = calls.generate(type);
            byte[] message = "pay 10 to acme".getBytes(StandardCharsets.UTF_8);
            byte[] signature = sign(keyId, message);

            verify(keyId, message, signature);
            assertThat(jdkVerifies(type == KeyType.ED25519 ? "Ed25519" : "SHA256withECDSAinP1363Format",
                    calls.exportPublicKey(keyId), message, signature)).as(type.name()).isTrue();
        }
    }

    @Test
    void refusesAlteredMessagesAlteredSignaturesAndOtherKeysWithoutShowingAnything() {
        for (KeyType type : new KeyType[] {KeyType.ED25519, KeyType.ECDSA_P256}) {
            String keyId = calls.generate(type);
            String otherKey = calls.generate(type);
            byte[] secret = calls.store.find(keyId).orElseThrow().secret();
            byte[] message = "pay 10 to acme".getBytes(StandardCharsets.UTF_8);
            byte[] signature = sign(keyId, message);
            byte[] alteredMessage = "pay 90 to acme".getBytes(StandardCharsets.UTF_8);
            byte[] alteredSignature = signature.clone();
            alteredSignature[5] ^= 1;

            for (VerifySignatureRequest bad : new VerifySignatureRequest[] {
                    request(keyId, alteredMessage, signature), request(keyId, message, alteredSignature),
                    request(otherKey, message, signature), request(keyId, message, new byte[64])}) {
                CapabilityException failure = calls.failure("crypto.sign", "verify", bad);
                assertThat(failure.reason()).as(type.name()).isEqualTo(Reason.INVALID_ARGUMENT);
                assertThat(failure).hasMessage(Signatures.MISMATCH);
                assertShowsNone(failure.getMessage(), secret, signature);
            }
        }
    }

    @Test
    void saysWhatIsMalformedOrNotAllowed() {
        String keyId = calls.generate(KeyType.ED25519);
        assertThat(calls.failure("crypto.sign", "verify", request(keyId, new byte[1], new byte[63])))
                .hasMessage("an ED25519 signature is 64 bytes; got 63")
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);

        String publicOnly = calls.importPublicKey(KeyType.ED25519, calls.exportPublicKey(keyId).getRaw().toByteArray());
        assertThat(calls.failure("crypto.sign", "sign", SignRequest.newBuilder().setKeyId(publicOnly).build()))
                .hasMessage("key '" + publicOnly + "' is a public key only: it can verify signatures, not make them")
                .extracting(CapabilityException::reason).isEqualTo(Reason.FAILED_PRECONDITION);

        String macKey = calls.generate(KeyType.HMAC_SHA256);
        assertThat(calls.failure("crypto.sign", "sign", SignRequest.newBuilder().setKeyId(macKey).build()))
                .hasMessage("key '" + macKey + "' is an HMAC_SHA256 key; crypto.sign takes ED25519 or ECDSA_P256 keys")
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);

        // imports: a point off the curve, a key pair that does not belong together, a scalar out of range
        byte[] offCurve = hex(P256_U);
        offCurve[64] ^= 1;
        assertThat(importFailure(KeyType.ECDSA_P256, new byte[0], offCurve))
                .hasMessage("public_key is not a valid ECDSA_P256 public key (not a point on the curve)");
        assertThat(importFailure(KeyType.ED25519, hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
                hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")))
                .hasMessage("public_key does not belong to private_key; leave public_key empty to derive it");
        assertThat(importFailure(KeyType.ECDSA_P256, new byte[32], new byte[0]))
                .hasMessage("private_key is not a valid ECDSA_P256 private key: the scalar must be between 1 and "
                        + "the curve order minus 1");
        assertThat(importFailure(KeyType.ED25519, new byte[31], new byte[0]))
                .hasMessage("ED25519 private_key must be 32 bytes; got 31");
    }

    private CapabilityException importFailure(KeyType type, byte[] privateKey, byte[] publicKey) {
        CapabilityException failure = calls.failure("crypto.keys", "import", ImportKeyRequest.newBuilder()
                .setType(type).setPrivateKey(ByteString.copyFrom(privateKey))
                .setPublicKey(ByteString.copyFrom(publicKey)).build());
        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertShowsNone(failure.getMessage(), privateKey);
        return failure;
    }

    private byte[] sign(String keyId, byte[] message) {
        return calls.call("crypto.sign", "sign", SignRequest.newBuilder().setKeyId(keyId)
                .setMessage(ByteString.copyFrom(message)).build(), SignResponse.parser()).getSignature().toByteArray();
    }

    private void verify(String keyId, byte[] message, byte[] signature) {
        assertThat(calls.call("crypto.sign", "verify", request(keyId, message, signature),
                VerifySignatureResponse.parser())).isEqualTo(VerifySignatureResponse.getDefaultInstance());
    }

    private static VerifySignatureRequest request(String keyId, byte[] message, byte[] signature) {
        return VerifySignatureRequest.newBuilder().setKeyId(keyId).setMessage(ByteString.copyFrom(message))
                .setSignature(ByteString.copyFrom(signature)).build();
    }

    /** The exported SubjectPublicKeyInfo, read by the JDK, and the signature checked by the JDK's own code. */
    private static boolean jdkVerifies(String algorithm, ExportPublicKeyResponse exported, byte[] message,
                                       byte[] signature) throws Exception {
        String keyAlgorithm = algorithm.equals("Ed25519") ? "Ed25519" : "EC";
        PublicKey key = KeyFactory.getInstance(keyAlgorithm)
                .generatePublic(new X509EncodedKeySpec(exported.getSpkiDer().toByteArray()));
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(key);
        verifier.update(message);
        return verifier.verify(signature);
    }
}
