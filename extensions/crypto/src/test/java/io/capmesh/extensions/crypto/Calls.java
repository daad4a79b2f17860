package io.capmesh.extensions.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.capmesh.crypto.keys.KeyStore;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyRequest;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyResponse;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.ImportKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyInfo;
import io.capmesh.extensions.crypto.v1.KeyType;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/** Calls a started {@link CryptoExtension} the way the runtime's {@code Invoke} does: serialized messages in and out. */
final class Calls implements AutoCloseable {

    static final HexFormat HEX = HexFormat.of();

    record Context(KeyStore keys) implements ExtensionContext {
        @Override
        public String id() {
            return "crypto";
        }

        @Override
        public String version() {
            return "1.0.0";
        }

        @Override
        public Map<String, String> settings() {
            return Map.of();
        }

        @Override
        public <T> Optional<T> hostService(Class<T> type, String name) {
            return type == KeyStore.class && name.isEmpty() && keys != null ? Optional.of(type.cast(keys))
                    : Optional.empty();
        }
    }

    final MemoryKeyStore store = new MemoryKeyStore();
    final CryptoExtension extension = new CryptoExtension();

    Calls() throws Exception {
        extension.start(new Context(store));
    }

    <A extends Message> A call(String capability, String method, Message request, Parser<A> answer) {
        try {
            return answer.parseFrom(extension.invoke(Invocation.of(capability, method, request.toByteArray())));
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(capability + "/" + method + " answered something that does not parse", e);
        }
    }

    CapabilityException failure(String capability, String method, Message request) {
        return failure(capability, method, request.toByteArray());
    }

    CapabilityException failure(String capability, String method, byte[] payload) {
        CapabilityException failure = catchThrowableOfType(
                () -> extension.invoke(Invocation.of(capability, method, payload)), CapabilityException.class);
        assertThat(failure).as(capability + "/" + method + " should have failed").isNotNull();
        return failure;
    }

    String importKey(KeyType type, byte[] privateKey) {
        return call("crypto.keys", "import", ImportKeyRequest.newBuilder().setType(type)
                .setPrivateKey(ByteString.copyFrom(privateKey)).build(), KeyInfo.parser()).getKeyId();
    }

    String importPublicKey(KeyType type, byte[] publicKey) {
        return call("crypto.keys", "import", ImportKeyRequest.newBuilder().setType(type)
                .setPublicKey(ByteString.copyFrom(publicKey)).build(), KeyInfo.parser()).getKeyId();
    }

    String generate(KeyType type) {
        return call("crypto.keys", "generate", GenerateKeyRequest.newBuilder().setType(type).build(),
                KeyInfo.parser()).getKeyId();
    }

    ExportPublicKeyResponse exportPublicKey(String keyId) {
        return call("crypto.keys", "exportPublicKey", ExportPublicKeyRequest.newBuilder().setKeyId(keyId).build(),
                ExportPublicKeyResponse.parser());
    }

    static byte[] hex(String hex) {
        return HEX.parseHex(hex.replace(" ", ""));
    }

    static String hex(ByteString bytes) {
        return hex(bytes.toByteArray());
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** Fails if the text shows any of the secrets in hex or base64 (whole, or a 12-byte run of one). */
    static void assertShowsNone(String text, byte[]... secrets) {
        for (byte[] secret : secrets) {
            for (int from = 0; secret.length > 0 && from + Math.min(12, secret.length) <= secret.length; from++) {
                byte[] run = java.util.Arrays.copyOfRange(secret, from, from + Math.min(12, secret.length));
                assertThat(text.toLowerCase()).doesNotContain(HEX.formatHex(run));
                assertThat(text).doesNotContain(Base64.getEncoder().withoutPadding().encodeToString(run));
            }
        }
    }

    @Override
    public void close() throws Exception {
        extension.close();
    }
}
