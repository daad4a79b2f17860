package io.capmesh.extensions.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.crypto.v1.AeadGrpc;
import io.capmesh.extensions.crypto.v1.DecryptRequest;
import io.capmesh.extensions.crypto.v1.EncryptRequest;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.KeysGrpc;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The extension as the runtime sees it: its manifest, its start, and its typed services over a channel. */
class ExtensionTest {

    @Test
    void theManifestDeclaresExactlyTheOperationsItAnswers() throws Exception {
        String manifest;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/capmesh/extension.json")) {
            manifest = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Set<String> declared = new TreeSet<>();
        Matcher capability = Pattern.compile("\"name\": \"([^\"]+)\", \"version\": \"[^\"]+\", \"methods\": \\[([^]]*)]")
                .matcher(manifest);
        while (capability.find()) {
            for (String method : capability.group(2).replace("\"", "").split(",\\s*")) {
                declared.add(capability.group(1) + "/" + method);
            }
        }
        try (Calls calls = new Calls()) {
            assertThat(declared).isEqualTo(new TreeSet<>(calls.extension.operations().keySet()));
            assertThat(calls.extension.services()).extracting(s -> s.getServiceDescriptor().getName())
                    .containsExactly("capmesh.crypto.v1.Hash", "capmesh.crypto.v1.Mac", "capmesh.crypto.v1.Signer",
                            "capmesh.crypto.v1.Aead", "capmesh.crypto.v1.Keys");
        }
        assertThat(manifest).contains("\"id\": \"crypto\"", "\"entryClass\": \"" + CryptoExtension.class.getName());
    }

    @Test
    void refusesToStartWithoutTheHostsKeyStore() {
        assertThatThrownBy(() -> new CryptoExtension().start(new Calls.Context(null)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the crypto extension keeps its keys in the host's io.capmesh.crypto.keys.KeyStore, which "
                        + "this runtime does not lend; run it in the crypto runtime (capmesh-crypto-runtime-service)");
    }

    @Test
    void anUnknownMethodIsNotFound() throws Exception {
        try (Calls calls = new Calls()) {
            assertThat(calls.failure("crypto.sign", "forge", new byte[0]))
                    .hasMessage("crypto.sign has no method forge")
                    .extracting(CapabilityException::reason).isEqualTo(CapabilityException.Reason.NOT_FOUND);
        }
    }

    @Test
    void theTypedServicesAnswerAndFailWithTheSameStatusesAsInvoke() throws Exception {
        try (Calls calls = new Calls()) {
            overChannel(calls, channel -> {
                var keys = KeysGrpc.newBlockingStub(channel);
                var aead = AeadGrpc.newBlockingStub(channel);
                String keyId = keys.generate(GenerateKeyRequest.newBuilder().setType(KeyType.AES_GCM).build())
                        .getKeyId();
                ByteString sealed = aead.encrypt(EncryptRequest.newBuilder().setKeyId(keyId)
                        .setPlaintext(ByteString.copyFromUtf8("hello")).build()).getCiphertext();
                assertThat(aead.decrypt(DecryptRequest.newBuilder().setKeyId(keyId).setCiphertext(sealed).build())
                        .getPlaintext().toStringUtf8()).isEqualTo("hello");

                byte[] tampered = sealed.toByteArray();
                tampered[tampered.length - 1] ^= 1;
                assertStatus(() -> aead.decrypt(DecryptRequest.newBuilder().setKeyId(keyId)
                        .setCiphertext(ByteString.copyFrom(tampered)).build()), Status.Code.INVALID_ARGUMENT,
                        Aeads.FAILED);
                assertStatus(() -> SignerGrpc.newBlockingStub(channel).sign(SignRequest.newBuilder()
                        .setKeyId("key-unknown").build()), Status.Code.NOT_FOUND,
                        "no key 'key-unknown' in this runtime's key store");
            });
        }
    }

    @Test
    void anUnexpectedFailureIsNamedByItsTypeOnlyEitherWayIn() throws Exception {
        try (Calls calls = new Calls()) {
            calls.store.failReads = new IllegalStateException("bad record 9d61b19deffd5a60ba844af492ec2cc4");
            String expected = "crypto.sign/sign failed unexpectedly (java.lang.IllegalStateException)";

            assertThatThrownBy(() -> calls.extension.invoke(Invocation.of("crypto.sign",
                    "sign", SignRequest.newBuilder().setKeyId("key-1").build().toByteArray())))
                    .isInstanceOf(IllegalStateException.class).hasMessage(expected);

            overChannel(calls, channel -> assertStatus(() -> SignerGrpc.newBlockingStub(channel)
                    .sign(SignRequest.newBuilder().setKeyId("key-1").build()), Status.Code.INTERNAL, expected));
        }
    }

    private interface ChannelUse {
        void accept(ManagedChannel channel) throws Exception;
    }

    /** Serves the extension's typed services in-process and hands a channel to them to {@code use}. */
    private static void overChannel(Calls calls, ChannelUse use) throws Exception {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).directExecutor();
        calls.extension.services().forEach(builder::addService);
        Server server = builder.build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            use.accept(channel);
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }

    private static void assertStatus(Runnable call, Status.Code code, String description) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).isEqualTo(description);
        });
    }
}
