package io.capmesh.extensions.crypto;

import static io.capmesh.extensions.crypto.Calls.assertShowsNone;
import static io.capmesh.extensions.crypto.Calls.hex;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import io.capmesh.extensions.crypto.v1.DecryptRequest;
import io.capmesh.extensions.crypto.v1.DecryptResponse;
import io.capmesh.extensions.crypto.v1.EncryptRequest;
import io.capmesh.extensions.crypto.v1.EncryptResponse;
import io.capmesh.extensions.crypto.v1.KeyType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * crypto.aead against the GCM specification's test cases (McGrew and Viega, the vectors NIST's GCM validation
 * starts from) and RFC 8439's ChaCha20-Poly1305 vectors: encryption with the vector's nonce must give the published
 * ciphertext and tag, and the published ciphertext must decrypt through the capability. Then what it refuses.
 */
class AeadTest {

    private static final String SUNSCREEN = "Ladies and Gentlemen of the class of '99: If I could offer you only "
            + "one tip for the future, sunscreen would be it.";

    private final Calls calls = new Calls();

    AeadTest() throws Exception {
    }

    @AfterEach
    void close() throws Exception {
        calls.close();
    }

    /** GCM test cases 1 to 4 (AES-128) and 13 to 16 (AES-256): key, nonce, plaintext, AAD, ciphertext and tag. */
    @ParameterizedTest(name = "GCM test case {0}")
    @CsvSource(delimiter = '|', textBlock = """
            1  | 00000000000000000000000000000000 | 000000000000000000000000 | '' | '' | 58e2fccefa7e3061367f1d57a4e7455a
            2  | 00000000000000000000000000000000 | 000000000000000000000000 | 00000000000000000000000000000000 | '' | 0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf
            3  | feffe9928665731c6d6a8f9467308308 | cafebabefacedbaddecaf888 | d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255 | '' | 42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd2ba6fab4
            4  | feffe9928665731c6d6a8f9467308308 | cafebabefacedbaddecaf888 | d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39 | feedfacedeadbeeffeedfacedeadbeefabaddad2 | 42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47
            13 | 0000000000000000000000000000000000000000000000000000000000000000 | 000000000000000000000000 | '' | '' | 530f8afbc74536b9a963b4f1c4cb738b
            14 | 0000000000000000000000000000000000000000000000000000000000000000 | 000000000000000000000000 | 00000000000000000000000000000000 | '' | cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919
            16 | feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308 | cafebabefacedbaddecaf888 | d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39 | feedfacedeadbeeffeedfacedeadbeefabaddad2 | 522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b
            """)
    void matchesTheGcmTestCases(int testCase, String key, String nonce, String plaintext, String aad, String sealed) {
        checkVector(KeyType.AES_GCM, hex(key), hex(nonce), hex(plaintext), hex(aad), hex(sealed));
    }

    @Test
    void matchesRfc8439() {
        // section 2.8.2: the AEAD construction's example
        checkVector(KeyType.CHACHA20_POLY1305,
                hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"),
                hex("070000004041424344454647"), SUNSCREEN.getBytes(StandardCharsets.US_ASCII),
                hex("50515253c0c1c2c3c4c5c6c7"),
                hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da9272"
                        + "8b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b"
                        + "4831d7bc3ff4def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691"));
        // appendix A.5: decryption of a published ciphertext
        String keyId = calls.importKey(KeyType.CHACHA20_POLY1305,
                hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0"));
        byte[] plaintext = decrypt(keyId, hex("000000000102030405060708"
                + "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0"
                + "bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
                + "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9"
                + "9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
                + "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130"
                + "305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b" + "eead9d67890cbb22392336fea1851f38"),
                hex("f33388860000000000004e91"));
        assertThat(new String(plaintext, StandardCharsets.UTF_8))
                .startsWith("Internet-Drafts are draft documents valid for a maximum of six months")
                .endsWith("\u201cwork in progress./\u201d");
    }

    @Test
    void encryptsWithAFreshNonceEachTimeAndDecryptsWhatItEncrypted() {
        for (KeyType type : new KeyType[] {KeyType.AES_GCM, KeyType.CHACHA20_POLY1305}) {
            String keyId = calls.generate(type);
            byte[] first = encrypt(keyId, "attack at dawn", "header");
            byte[] second = encrypt(keyId, "attack at dawn", "header");

            assertThat(first).hasSize(Aeads.NONCE + 14 + Aeads.TAG);
            assertThat(Arrays.copyOf(first, Aeads.NONCE)).isNotEqualTo(Arrays.copyOf(second, Aeads.NONCE));
            assertThat(new String(decrypt(keyId, first, "header".getBytes()), StandardCharsets.UTF_8))
                    .isEqualTo("attack at dawn");
        }
    }

    @Test
    void refusesTamperedCiphertextAlteredAssociatedDataAndOtherKeysWithOneMessageThatShowsNothing() {
        for (KeyType type : new KeyType[] {KeyType.AES_GCM, KeyType.CHACHA20_POLY1305}) {
            String keyId = calls.generate(type);
            String otherKey = calls.generate(type);
            byte[] secret = calls.store.find(keyId).orElseThrow().secret();
            byte[] sealed = encrypt(keyId, "the launch code is 0000", "header");

            for (int position : new int[] {0, Aeads.NONCE, sealed.length - 1}) { // nonce, body, tag
                byte[] tampered = sealed.clone();
                tampered[position] ^= 1;
                assertRefused(calls.failure("crypto.aead", "decrypt", decryption(keyId, tampered, "header")), secret);
            }
            assertRefused(calls.failure("crypto.aead", "decrypt", decryption(keyId, sealed, "Header")), secret);
            assertRefused(calls.failure("crypto.aead", "decrypt", decryption(keyId, sealed, "")), secret);
            assertRefused(calls.failure("crypto.aead", "decrypt", decryption(otherKey, sealed, "header")), secret);
        }
    }

    @Test
    void saysWhatIsMalformed() {
        String keyId = calls.generate(KeyType.AES_GCM);
        assertThat(calls.failure("crypto.aead", "decrypt", decryption(keyId, new byte[27], "")))
                .hasMessage("ciphertext is too short: it holds a 12-byte nonce and a 16-byte tag at least, 28 bytes; "
                        + "got 27")
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);

        String signingKey = calls.generate(KeyType.ED25519);
        assertThat(calls.failure("crypto.aead", "encrypt", EncryptRequest.newBuilder().setKeyId(signingKey).build()))
                .hasMessage("key '" + signingKey + "' is an ED25519 key; crypto.aead takes AES_GCM or "
                        + "CHACHA20_POLY1305 keys")
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);

        assertThat(calls.failure("crypto.aead", "encrypt", EncryptRequest.newBuilder().setKeyId("key-404").build()))
                .extracting(CapabilityException::reason).isEqualTo(Reason.NOT_FOUND);
    }

    /** Encrypts with the vector's nonce (the capability never takes one), then decrypts through the capability. */
    private void checkVector(KeyType type, byte[] key, byte[] nonce, byte[] plaintext, byte[] aad, byte[] sealed) {
        assertThat(Aeads.seal(type, key, nonce, plaintext, aad)).isEqualTo(sealed);

        String keyId = calls.importKey(type, key);
        byte[] ciphertext = org.bouncycastle.util.Arrays.concatenate(nonce, sealed);
        assertThat(decrypt(keyId, ciphertext, aad)).isEqualTo(plaintext);
    }

    private static void assertRefused(CapabilityException failure, byte[] secret) {
        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure).hasMessage(Aeads.FAILED);
        assertShowsNone(failure.getMessage(), secret);
        assertThat(failure.getMessage()).doesNotContain("launch");
    }

    private byte[] encrypt(String keyId, String plaintext, String aad) {
        return calls.call("crypto.aead", "encrypt", EncryptRequest.newBuilder().setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8(plaintext)).setAssociatedData(ByteString.copyFromUtf8(aad))
                .build(), EncryptResponse.parser()).getCiphertext().toByteArray();
    }

    private byte[] decrypt(String keyId, byte[] ciphertext, byte[] aad) {
        return calls.call("crypto.aead", "decrypt", DecryptRequest.newBuilder().setKeyId(keyId)
                .setCiphertext(ByteString.copyFrom(ciphertext)).setAssociatedData(ByteString.copyFrom(aad)).build(),
                DecryptResponse.parser()).getPlaintext().toByteArray();
    }

    private static DecryptRequest decryption(String keyId, byte[] ciphertext, String aad) {
        return DecryptRequest.newBuilder().setKeyId(keyId).setCiphertext(ByteString.copyFrom(ciphertext))
                .setAssociatedData(ByteString.copyFromUtf8(aad)).build();
    }
}
