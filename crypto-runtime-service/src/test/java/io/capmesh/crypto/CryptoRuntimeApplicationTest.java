package io.capmesh.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.GetKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.KeysGrpc;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignerGrpc;
import io.capmesh.extensions.crypto.v1.VerifySignatureRequest;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.capmesh.runtime.pkg.Repackager;
import io.capmesh.testsupport.BackgroundLoad;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.event.EventListener;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;

/** The service as Boot wires it: the key store lent to the extension, kept through a swap, and counted. */
@SpringBootTest(properties = {
        "spring.grpc.server.address=127.0.0.1",
        "spring.grpc.server.port=0",
        "capmesh.crypto.master-key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "capmesh.runtime.data-dir=${java.io.tmpdir}/capmesh-crypto-runtime-application-test/${random.uuid}"})
class CryptoRuntimeApplicationTest {

    private static final String BUNDLED = "capmesh/extensions/capmesh-ext-crypto.jar";

    @TestConfiguration
    static class Port {
        volatile int value;

        @EventListener
        void started(GrpcServerStartedEvent event) {
            value = event.getPort();
        }
    }

    @Autowired
    Port port;

    @Autowired
    MeterRegistry meters;

    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port.value).usePlaintext().build();
    }

    @AfterEach
    void disconnect() {
        channel.shutdownNow();
    }

    @Test
    void keysOutliveASwapUnderLoadThatFailsNoCallAndTheReplacedVersionIsCollected() throws Exception {
        var keys = KeysGrpc.newBlockingStub(channel);
        var signer = SignerGrpc.newBlockingStub(channel);
        String keyId = keys.generate(GenerateKeyRequest.newBuilder().setType(KeyType.ED25519).build()).getKeyId();
        ByteString message = ByteString.copyFromUtf8("signed before the swap");
        ByteString before = signer.sign(SignRequest.newBuilder().setKeyId(keyId).setMessage(message).build())
                .getSignature();

        SwapResponse swapped;
        BackgroundLoad load = BackgroundLoad.start(4, () -> signer.sign(SignRequest.newBuilder().setKeyId(keyId)
                .setMessage(message).build()));
        try (load) {
            Thread.sleep(200);
            swapped = PackageUpload.swap(RuntimeServiceGrpc.newStub(channel), DeployHeader.getDefaultInstance(),
                    Repackager.withVersion(bundled(), "1.0.1"), Duration.ofSeconds(60));
            Thread.sleep(200);
        }
        assertThat(load.failures()).as("calls failed during the swap").isEmpty();
        assertThat(load.calls()).isPositive();

        assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.0.1");
        assertThat(swapped.getPrevious().getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
        signer.verify(VerifySignatureRequest.newBuilder().setKeyId(keyId).setMessage(message).setSignature(before)
                .build());
        assertThat(signer.sign(SignRequest.newBuilder().setKeyId(keyId).setMessage(message).build()).getSignature())
                .isEqualTo(before); // Ed25519 is deterministic: the same key, not a new one
        var invoked = RuntimeServiceGrpc.newBlockingStub(channel).invoke(InvokeRequest.newBuilder()
                .setCapability("crypto.keys").setMethod("get")
                .setPayload(GetKeyRequest.newBuilder().setKeyId(keyId).build().toByteString()).build());
        assertThat(invoked.getExtensionVersion()).isEqualTo("1.0.1");
        assertThat(meters.get("capmesh.crypto.keys").gauge().value()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void theExtensionBundlesNeitherBouncyCastleNorTheKeyStoreApi() throws Exception {
        List<String> entries = new ArrayList<>();
        try (JarInputStream jar = new JarInputStream(new java.io.ByteArrayInputStream(bundled()))) {
            for (JarEntry entry; (entry = jar.getNextJarEntry()) != null; ) {
                entries.add(entry.getName());
            }
        }
        assertThat(entries).contains("io/capmesh/extensions/crypto/CryptoExtension.class",
                "META-INF/capmesh/extension.json");
        assertThat(entries).noneMatch(name -> name.startsWith("org/bouncycastle/")
                || name.startsWith("io/capmesh/crypto/keys/") || name.startsWith("io/grpc/"));
    }

    private static byte[] bundled() throws Exception {
        try (InputStream in = CryptoRuntimeApplicationTest.class.getClassLoader().getResourceAsStream(BUNDLED)) {
            return in.readAllBytes();
        }
    }
}
