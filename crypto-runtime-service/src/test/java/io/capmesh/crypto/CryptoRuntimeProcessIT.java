package io.capmesh.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.extensions.crypto.v1.AeadGrpc;
import io.capmesh.extensions.crypto.v1.DecryptRequest;
import io.capmesh.extensions.crypto.v1.DigestRequest;
import io.capmesh.extensions.crypto.v1.DigestResponse;
import io.capmesh.extensions.crypto.v1.EncryptRequest;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyRequest;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.HashAlgorithm;
import io.capmesh.extensions.crypto.v1.ImportKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyInfo;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.KeysGrpc;
import io.capmesh.extensions.crypto.v1.ListKeysRequest;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignerGrpc;
import io.capmesh.extensions.crypto.v1.VerifySignatureRequest;
import io.capmesh.access.LeaseToken;
import io.capmesh.access.TokenIssuer;
import io.capmesh.proto.client.CallHeaders;
import io.capmesh.proto.client.Completion;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged crypto runtime as its own process: typed services and Invoke, keys that survive a restart while the
 * file that holds them shows none of them, and a refusal to start under another master key.
 */
class CryptoRuntimeProcessIT {

    private static final Path JAR = Path.of(System.getProperty("capmesh.service.jar"));

    private static ServiceProcess start(Path data, Map<String, String> environment) throws Exception {
        return ServiceProcess.start(JAR, data.resolveSibling(data.getFileName() + ".log"), environment,
                "--capmesh.runtime.data-dir=" + data);
    }

    private static final HexFormat HEX = HexFormat.of();
    /** RFC 8032 section 7.1, test 1. */
    private static final byte[] SEED = HEX.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static final byte[] SEED_PUBLIC = HEX.parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    private static final String EMPTY_MESSAGE_SIGNATURE = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522"
            + "4901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    private static final String DECRYPTION_FAILED =
            "decryption failed: the ciphertext or its associated data was altered, or the key is wrong";

    @TempDir
    Path dir;

    @Test
    void whereAccessIsRequiredKeysAreManagedOnlyWithTheKeysRole() throws Exception {
        KeyPair operatorKey = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
        KeyPair brokerKey = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
        TokenIssuer operator = new TokenIssuer(operatorKey, Clock.systemUTC());
        TokenIssuer broker = new TokenIssuer(brokerKey, Clock.systemUTC());
        Path operatorPublic = Files.writeString(dir.resolve("operator.pem"),
                SigningKeys.toPem(operatorKey.getPublic()));
        Path brokerPublic = Files.writeString(dir.resolve("broker.pem"), SigningKeys.toPem(brokerKey.getPublic()));
        String lease = broker.leaseToken(new LeaseToken("L1", "shop", Set.of("crypto.keys", "crypto.sign"),
                Instant.now().plus(Duration.ofMinutes(10))));
        Path data = dir.resolve("secured");
        try (ServiceProcess runtime = ServiceProcess.start(JAR, dir.resolve("secured.log"),
                Map.of("CAPMESH_CRYPTO_MASTER_KEY", randomBase64()),
                "--capmesh.runtime.data-dir=" + data,
                "--capmesh.access.mode=required",
                "--capmesh.access.token-issuers=" + operatorPublic,
                "--capmesh.access.lease-issuers=" + brokerPublic,
                "--capmesh.access.principals.custodian.roles=keys")) {
            GenerateKeyRequest generate = GenerateKeyRequest.newBuilder().setType(KeyType.ED25519).build();
            var asShop = KeysGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(lease, null)));
            assertStatus(() -> asShop.generate(generate), Status.Code.PERMISSION_DENIED,
                    "anonymous (none) lacks the role keys that capmesh.crypto.v1.Keys/Generate needs");
            var runtimeService = RuntimeServiceGrpc.newBlockingStub(runtime.channel())
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(lease, null)));
            assertStatus(() -> runtimeService.invoke(InvokeRequest.newBuilder().setCapability("crypto.keys")
                            .setMethod("generate").setPayload(generate.toByteString()).build()),
                    Status.Code.PERMISSION_DENIED, "anonymous (none) lacks the role keys that crypto.keys/generate needs");

            var asCustodian = KeysGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
                            headers(lease, operator.accessToken("custodian", Duration.ofMinutes(10)))));
            String keyId = asCustodian.generate(generate).getKeyId();
            // using a key needs only the lease
            var signer = SignerGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(lease, null)));
            assertThat(signer.sign(SignRequest.newBuilder().setKeyId(keyId)
                    .setMessage(ByteString.copyFromUtf8("m")).build()).getSignature().size()).isEqualTo(64);
            assertStatus(() -> KeysGrpc.newBlockingStub(runtime.channel()).list(ListKeysRequest.getDefaultInstance()),
                    Status.Code.UNAUTHENTICATED, "capmesh.crypto.v1.Keys/List needs the lease token that Acquire"
                            + " returned, in the capmesh-lease header");
        }
    }

    private static Metadata headers(String lease, String bearer) {
        Metadata headers = new Metadata();
        headers.put(CallHeaders.LEASE, lease);
        if (bearer != null) {
            headers.put(CallHeaders.AUTHORIZATION, "Bearer " + bearer);
        }
        return headers;
    }

    @Test
    void keepsItsKeysAcrossARestartEncryptedAtRestAndRefusesAnotherMasterKey() throws Exception {
        Path data = dir.resolve("data");
        String masterKey = randomBase64();
        Map<String, String> environment = Map.of("CAPMESH_CRYPTO_MASTER_KEY", masterKey);
        byte[] aesKey = new byte[32];
        new SecureRandom().nextBytes(aesKey);

        String generated;
        String imported;
        String sealingKey;
        ByteString signature;
        ByteString generatedPublic;
        ByteString sealed;
        ByteString message = ByteString.copyFromUtf8("release 1.2.3");
        try (ServiceProcess runtime = start(data, environment)) {
            assertThat(reflectedServices(runtime)).contains("capmesh.crypto.v1.Hash", "capmesh.crypto.v1.Mac",
                    "capmesh.crypto.v1.Signer", "capmesh.crypto.v1.Aead", "capmesh.crypto.v1.Keys",
                    "capmesh.v1.RuntimeService", "grpc.health.v1.Health");
            var keys = KeysGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
            var signer = SignerGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
            var aead = AeadGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);

            generated = keys.generate(GenerateKeyRequest.newBuilder().setType(KeyType.ED25519)
                    .setLabel("release signing").build()).getKeyId();
            signature = signer.sign(SignRequest.newBuilder().setKeyId(generated).setMessage(message).build())
                    .getSignature();
            generatedPublic = keys.exportPublicKey(ExportPublicKeyRequest.newBuilder().setKeyId(generated).build())
                    .getRaw();
            imported = keys.import_(ImportKeyRequest.newBuilder().setType(KeyType.ED25519)
                    .setPrivateKey(ByteString.copyFrom(SEED)).build()).getKeyId();
            sealingKey = keys.import_(ImportKeyRequest.newBuilder().setType(KeyType.AES_GCM)
                    .setPrivateKey(ByteString.copyFrom(aesKey)).setLabel("backups").build()).getKeyId();
            sealed = aead.encrypt(EncryptRequest.newBuilder().setKeyId(sealingKey)
                    .setPlaintext(ByteString.copyFromUtf8("the backup password")).build()).getCiphertext();

            // the same operations through the generic Invoke, with the same messages as payloads
            var runtimeService = RuntimeServiceGrpc.newBlockingStub(runtime.channel());
            invoke(runtimeService, "crypto.sign", "verify", VerifySignatureRequest.newBuilder().setKeyId(generated)
                    .setMessage(message).setSignature(signature).build().toByteString());
            DigestResponse digest = DigestResponse.parseFrom(invoke(runtimeService, "crypto.hash", "digest",
                    DigestRequest.newBuilder().setAlgorithm(HashAlgorithm.SHA_256)
                            .setData(ByteString.copyFromUtf8("abc")).build().toByteString()).getPayload());
            assertThat(HEX.formatHex(digest.getDigest().toByteArray()))
                    .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

            // failures: the same status and words either way, and nothing secret in them
            byte[] tampered = sealed.toByteArray();
            tampered[tampered.length - 1] ^= 1;
            DecryptRequest altered = DecryptRequest.newBuilder().setKeyId(sealingKey)
                    .setCiphertext(ByteString.copyFrom(tampered)).build();
            assertStatus(() -> aead.decrypt(altered), Status.Code.INVALID_ARGUMENT, DECRYPTION_FAILED);
            assertStatus(() -> invoke(runtimeService, "crypto.aead", "decrypt", altered.toByteString()),
                    Status.Code.INVALID_ARGUMENT, DECRYPTION_FAILED);
            assertStatus(() -> signer.sign(SignRequest.newBuilder().setKeyId("key-missing").build()),
                    Status.Code.NOT_FOUND, "no key 'key-missing' in this runtime's key store");
            assertStatus(() -> invoke(runtimeService, "crypto.keys", "generate", ByteString.copyFromUtf8("{}")),
                    Status.Code.INVALID_ARGUMENT, "crypto.keys/generate takes a serialized "
                            + "capmesh.crypto.v1.GenerateKeyRequest (protobuf) as its payload; this one does not parse");
        }

        byte[] store = Files.readAllBytes(data.resolve("keys.store"));
        for (byte[] plain : List.of(SEED, SEED_PUBLIC, aesKey, generatedPublic.toByteArray(),
                "release signing".getBytes(StandardCharsets.UTF_8), generated.getBytes(StandardCharsets.UTF_8))) {
            assertThat(HEX.formatHex(store)).doesNotContain(HEX.formatHex(plain, 0, 8));
        }
        assertThat(data.resolve("master.key")).doesNotExist();

        try (ServiceProcess restarted = start(data, environment)) {
            var keys = KeysGrpc.newBlockingStub(restarted.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
            var signer = SignerGrpc.newBlockingStub(restarted.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
            var aead = AeadGrpc.newBlockingStub(restarted.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);

            assertThat(keys.list(ListKeysRequest.getDefaultInstance()).getKeysList())
                    .extracting(KeyInfo::getKeyId, KeyInfo::getType, KeyInfo::getLabel)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(generated, KeyType.ED25519, "release signing"),
                            org.assertj.core.groups.Tuple.tuple(imported, KeyType.ED25519, ""),
                            org.assertj.core.groups.Tuple.tuple(sealingKey, KeyType.AES_GCM, "backups"));
            signer.verify(VerifySignatureRequest.newBuilder().setKeyId(generated).setMessage(message)
                    .setSignature(signature).build());
            assertThat(signer.sign(SignRequest.newBuilder().setKeyId(generated).setMessage(message).build())
                    .getSignature()).isEqualTo(signature);
            assertThat(HEX.formatHex(signer.sign(SignRequest.newBuilder().setKeyId(imported).build())
                    .getSignature().toByteArray())).isEqualTo(EMPTY_MESSAGE_SIGNATURE);
            assertThat(aead.decrypt(DecryptRequest.newBuilder().setKeyId(sealingKey).setCiphertext(sealed).build())
                    .getPlaintext().toStringUtf8()).isEqualTo("the backup password");
        }

        String otherKey = randomBase64();
        String refusal = ServiceProcess.refusal(JAR, data.resolveSibling("refused.log"),
                Map.of("CAPMESH_CRYPTO_MASTER_KEY", otherKey), "--capmesh.runtime.data-dir=" + data);
        assertThat(refusal).contains("APPLICATION FAILED TO START",
                "The key store " + data.resolve("keys.store") + " does not decrypt with the configured master key",
                "Start with the master key the store was written with");
        assertThat(refusal).doesNotContain(masterKey, otherKey);
    }

    private static InvokeResponse invoke(RuntimeServiceGrpc.RuntimeServiceBlockingStub stub, String capability,
                                         String method, ByteString payload) {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS).invoke(InvokeRequest.newBuilder()
                .setCapability(capability).setMethod(method).setPayload(payload).build());
    }

    private static void assertStatus(Runnable call, Status.Code code, String description) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).isEqualTo(description);
        });
    }

    private static List<String> reflectedServices(ServiceProcess runtime) throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(runtime.channel())
                .serverReflectionInfo(Completion.of(answer));
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        return answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).toList();
    }

    private static String randomBase64() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }
}
