package io.capmesh.extensions.crypto;

import static io.capmesh.extensions.crypto.Calls.assertShowsNone;
import static io.capmesh.extensions.crypto.Calls.hex;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import io.capmesh.extensions.crypto.v1.DeleteKeyRequest;
import io.capmesh.extensions.crypto.v1.DeleteKeyResponse;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyRequest;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.GetKeyRequest;
import io.capmesh.extensions.crypto.v1.ImportKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyInfo;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.ListKeysRequest;
import io.capmesh.extensions.crypto.v1.ListKeysResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** crypto.keys: keys are made and imported, described and deleted, and no answer ever carries a secret. */
class KeysTest {

    private final Calls calls = new Calls();

    KeysTest() throws Exception {
    }

    @AfterEach
    void close() throws Exception {
        calls.close();
    }

    @Test
    void generatesEveryTypeAtItsSizeAndDescribesItWithoutItsMaterial() {
        record Expected(KeyType type, int size, int secretBytes) {
        }
        List<Expected> expected = List.of(new Expected(KeyType.ED25519, 0, 32),
                new Expected(KeyType.ECDSA_P256, 0, 32), new Expected(KeyType.HMAC_SHA256, 0, 32),
                new Expected(KeyType.HMAC_SHA384, 0, 48), new Expected(KeyType.HMAC_SHA512, 0, 64),
                new Expected(KeyType.HMAC_SHA256, 20, 20), new Expected(KeyType.AES_GCM, 0, 32),
                new Expected(KeyType.AES_GCM, 16, 16), new Expected(KeyType.AES_GCM, 24, 24),
                new Expected(KeyType.CHACHA20_POLY1305, 0, 32));
        List<Message> answers = new ArrayList<>();
        List<byte[]> secrets = new ArrayList<>();
        for (Expected e : expected) {
            KeyInfo info = calls.call("crypto.keys", "generate", GenerateKeyRequest.newBuilder().setType(e.type())
                    .setSizeBytes(e.size()).setLabel("made for " + e.type()).build(), KeyInfo.parser());
            byte[] secret = calls.store.find(info.getKeyId()).orElseThrow().secret();

            assertThat(info.getType()).isEqualTo(e.type());
            assertThat(info.getLabel()).isEqualTo("made for " + e.type());
            assertThat(info.getPublicOnly()).isFalse();
            assertThat(info.getCreated().getSeconds()).isPositive();
            assertThat(secret).as(e.toString()).hasSize(e.secretBytes());
            answers.add(info);
            answers.add(calls.call("crypto.keys", "get", GetKeyRequest.newBuilder().setKeyId(info.getKeyId()).build(),
                    KeyInfo.parser()));
            secrets.add(secret);
        }
        ListKeysResponse listed = calls.call("crypto.keys", "list", ListKeysRequest.getDefaultInstance(),
                ListKeysResponse.parser());
        answers.add(listed);
        answers.add(calls.exportPublicKey(listed.getKeys(0).getKeyId()));
        answers.add(calls.exportPublicKey(listed.getKeys(1).getKeyId()));

        assertThat(listed.getKeysList()).extracting(KeyInfo::getType)
                .containsExactlyElementsOf(expected.stream().map(Expected::type).toList());
        for (Message answer : answers) {
            byte[] bytes = answer.toByteArray();
            for (byte[] secret : secrets) {
                assertThat(indexOf(bytes, secret)).as("a secret in " + answer.getClass().getSimpleName()).isEqualTo(-1);
            }
            assertShowsNone(answer.toString(), secrets.toArray(byte[][]::new));
        }
    }

    @Test
    void exportsPublicKeysAsRawSpkiAndPem() {
        String keyId = calls.importKey(KeyType.ED25519,
                hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        var exported = calls.exportPublicKey(keyId);

        assertThat(exported.getType()).isEqualTo(KeyType.ED25519);
        // RFC 8410: the SubjectPublicKeyInfo of an Ed25519 key is a fixed 12-byte prefix and the raw key
        assertThat(hex(exported.getSpkiDer())).isEqualTo("302a300506032b6570032100"
                + "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        assertThat(exported.getPem()).isEqualTo("-----BEGIN PUBLIC KEY-----\n"
                + "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n");
    }

    @Test
    void neverExportsASymmetricKey() {
        String keyId = calls.importKey(KeyType.AES_GCM, new byte[16]);
        CapabilityException failure = calls.failure("crypto.keys", "exportPublicKey",
                ExportPublicKeyRequest.newBuilder().setKeyId(keyId).build());

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure).hasMessage("key '" + keyId + "' is a symmetric AES_GCM key: it has no public part, and "
                + "secret keys never leave the runtime");
    }

    @Test
    void deletesForGood() {
        String keyId = calls.generate(KeyType.HMAC_SHA256);
        calls.call("crypto.keys", "delete", DeleteKeyRequest.newBuilder().setKeyId(keyId).build(),
                DeleteKeyResponse.parser());

        assertThat(calls.failure("crypto.keys", "get", GetKeyRequest.newBuilder().setKeyId(keyId).build()).reason())
                .isEqualTo(Reason.NOT_FOUND);
        assertThat(calls.failure("crypto.keys", "delete", DeleteKeyRequest.newBuilder().setKeyId(keyId).build()))
                .hasMessage("no key '" + keyId + "' in this runtime's key store")
                .extracting(CapabilityException::reason).isEqualTo(Reason.NOT_FOUND);
    }

    @Test
    void refusesWhatCannotBeAKey() {
        assertInvalid(GenerateKeyRequest.getDefaultInstance(), "type is required: one of ED25519, ECDSA_P256, "
                + "HMAC_SHA256, HMAC_SHA384, HMAC_SHA512, AES_GCM, CHACHA20_POLY1305");
        assertInvalid(GenerateKeyRequest.newBuilder().setType(KeyType.AES_GCM).setSizeBytes(20).build(),
                "an AES_GCM key is 16, 24 or 32 bytes; got 20");
        assertInvalid(GenerateKeyRequest.newBuilder().setType(KeyType.HMAC_SHA256).setSizeBytes(8).build(),
                "size_bytes of a generated HMAC_SHA256 key is 16 to 1024 (0 for 32); got 8");
        assertInvalid(GenerateKeyRequest.newBuilder().setType(KeyType.ED25519).setSizeBytes(32).build(),
                "ED25519 keys have a fixed size; leave size_bytes 0");
        assertInvalid(GenerateKeyRequest.newBuilder().setType(KeyType.AES_GCM).setLabel("x".repeat(129)).build(),
                "label is at most 128 characters; got 129");
        assertInvalidImport(ImportKeyRequest.newBuilder().setType(KeyType.CHACHA20_POLY1305)
                .setPrivateKey(ByteString.copyFrom(new byte[31])).build(),
                "CHACHA20_POLY1305 private_key must be 32 bytes; got 31");
        assertInvalidImport(ImportKeyRequest.newBuilder().setType(KeyType.HMAC_SHA256).build(),
                "importing an HMAC_SHA256 key needs its secret as private_key");
        assertInvalidImport(ImportKeyRequest.newBuilder().setType(KeyType.AES_GCM)
                .setPrivateKey(ByteString.copyFrom(new byte[16])).setPublicKey(ByteString.copyFrom(new byte[16]))
                .build(), "an AES_GCM key is symmetric: it has no public_key; give the secret as private_key");
    }

    @Test
    void aKeyStoreThatCannotBeWrittenChangesNothingAndSaysSo() {
        String keyId = calls.generate(KeyType.AES_GCM);
        calls.store.failWrites = true;

        CapabilityException failure = calls.failure("crypto.keys", "generate",
                GenerateKeyRequest.newBuilder().setType(KeyType.AES_GCM).build());
        assertThat(failure.reason()).isEqualTo(Reason.UNAVAILABLE);
        assertThat(failure).hasMessage("the key store could not be written, so nothing changed; the runtime's log "
                + "has the cause");
        assertThat(calls.failure("crypto.keys", "delete", DeleteKeyRequest.newBuilder().setKeyId(keyId).build())
                .reason()).isEqualTo(Reason.UNAVAILABLE);
        assertThat(calls.store.list()).hasSize(1);
    }

    private void assertInvalid(GenerateKeyRequest request, String message) {
        assertThat(calls.failure("crypto.keys", "generate", request)).hasMessage(message)
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);
    }

    private void assertInvalidImport(ImportKeyRequest request, String message) {
        assertThat(calls.failure("crypto.keys", "import", request)).hasMessage(message)
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
