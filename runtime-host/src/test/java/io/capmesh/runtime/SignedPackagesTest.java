package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.signing.PackageSigner;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.SigningKeys;
import io.capmesh.signing.TrustedKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A runtime that requires signed packages, deployed to over gRPC like any other. */
class SignedPackagesTest {

    private static final KeyPair RELEASE = SigningKeys.generate(SignatureAlgorithm.ED25519);
    private static final KeyPair STRANGER = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);

    @TempDir
    Path data;

    @Test
    void aPackageSignedByATrustedKeyLoads() throws Exception {
        try (TestRuntime runtime = runtime(SignaturePolicy.REQUIRED)) {
            runtime.deploy(signed("capmesh-ext-echo", RELEASE));

            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "signed"))).isEqualTo("signed");
        }
    }

    @Test
    void anUnsignedPackageIsRefusedWhenSignaturesAreRequired() throws Exception {
        try (TestRuntime runtime = runtime(SignaturePolicy.REQUIRED)) {
            assertRefused(() -> runtime.deploy("capmesh-ext-echo"), Status.Code.FAILED_PRECONDITION,
                    "capmesh-ext-echo.jar was refused: it is not signed");
            assertNothingLoaded(runtime);
        }
    }

    @Test
    void aPackageAlteredAfterSigningIsRefusedNamingTheEntry() throws Exception {
        byte[] tampered = TestExtensions.rewriteManifest(signed("capmesh-ext-echo", RELEASE),
                json -> json.replace("\"1.0.0\"", "\"6.6.6\""));
        byte[] extraClass = withEntry(signed("capmesh-ext-echo", RELEASE), "io/capmesh/extensions/echo/Extra.class");
        try (TestRuntime runtime = runtime(SignaturePolicy.REQUIRED)) {
            assertRefused(() -> runtime.deploy(tampered), Status.Code.INVALID_ARGUMENT,
                    "entry META-INF/capmesh/extension.json was altered");
            assertRefused(() -> runtime.deploy(extraClass), Status.Code.INVALID_ARGUMENT,
                    "entry io/capmesh/extensions/echo/Extra.class was added");
            assertNothingLoaded(runtime);
        }
    }

    @Test
    void aPackageSignedByAnUntrustedKeyIsRefusedNamingTheKey() throws Exception {
        try (TestRuntime runtime = runtime(SignaturePolicy.VERIFY_IF_SIGNED)) {
            assertRefused(() -> runtime.deploy(signed("capmesh-ext-echo", STRANGER)), Status.Code.FAILED_PRECONDITION,
                    "signed with key " + SigningKeys.keyId(STRANGER.getPublic()));
            // verify-if-signed still takes an unsigned package
            runtime.deploy("capmesh-ext-echo");
            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "dev"))).isEqualTo("dev");
        }
    }

    @Test
    void aSwapToAnUnsignedVersionIsRefusedAndTheSignedOneKeepsServing() throws Exception {
        try (TestRuntime runtime = runtime(SignaturePolicy.REQUIRED)) {
            runtime.deploy(signed("capmesh-ext-echo", RELEASE));
            byte[] next = TestExtensions.rewriteManifest(TestExtensions.bytes("capmesh-ext-echo"),
                    json -> json.replace("\"1.0.0\"", "\"1.1.0\""));

            assertRefused(() -> runtime.swap(next), Status.Code.FAILED_PRECONDITION, "it is not signed");
            runtime.swap(PackageSigner.sign(next, RELEASE));

            assertThat(runtime.invoke("core.echo", "echo", "x").getExtensionVersion()).isEqualTo("1.1.0");
        }
    }

    @Test
    void theStoreRestoresOnlyWhatThePolicyAccepts() throws Exception {
        try (TestRuntime developer = runtime(SignaturePolicy.OFF)) {
            developer.deploy("capmesh-ext-echo");
            developer.deploy(signed("capmesh-ext-json", RELEASE));
        }
        try (TestRuntime production = runtime(SignaturePolicy.REQUIRED)) {
            assertThat(production.stub().listExtensions(ListExtensionsRequest.getDefaultInstance())
                    .getExtensionsList()).extracting(e -> e.getManifest().getId()).containsExactly("core-json");
            // what the start logged, asked again: core-json is already loaded, core-echo still refused
            List<Problem> problems = production.host().runtime().restore();
            assertThat(problems).filteredOn(p -> p.message().contains("core-echo")).singleElement()
                    .satisfies(problem -> {
                assertThat(problem.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(problem.message()).contains("stored core-echo@1.0.0 was not restored")
                        .contains("it is not signed");
            });
        }
    }

    @Test
    void packagesTheServiceShipsNeedNoSignatureAndAreRestored() throws Exception {
        RuntimeSettings settings = settings(SignaturePolicy.REQUIRED);
        try (RuntimeHost host = new RuntimeHost(settings)) {
            host.start(List.of(host.bundled("capmesh-ext-echo.jar",
                    new ByteArrayInputStream(TestExtensions.bytes("capmesh-ext-echo")))));
            assertThat(host.runtime().extension("core-echo")).isPresent();
        }
        try (RuntimeHost restarted = new RuntimeHost(settings)) {
            restarted.bundled("capmesh-ext-echo.jar", new ByteArrayInputStream(TestExtensions.bytes("capmesh-ext-echo")));

            assertThat(restarted.runtime().restore()).isEmpty();
            assertThat(restarted.runtime().extension("core-echo")).isPresent();
        }
    }

    private TestRuntime runtime(SignaturePolicy policy) throws Exception {
        return new TestRuntime(settings(policy));
    }

    private RuntimeSettings settings(SignaturePolicy policy) {
        return RuntimeSettings.defaults(data).withSignatures(
                new PackageVerifier(policy, TrustedKeys.of(List.of(RELEASE.getPublic()))));
    }

    private static byte[] signed(String artifact, KeyPair key) throws Exception {
        return PackageSigner.sign(TestExtensions.bytes(artifact), key);
    }

    private static byte[] withEntry(byte[] jar, String name) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar));
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                zip.putNextEntry(new ZipEntry(entry.getName()));
                zip.write(in.readAllBytes());
                zip.closeEntry();
            }
            zip.putNextEntry(new ZipEntry(name));
            zip.write(new byte[] {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE});
            zip.closeEntry();
        }
        return out.toByteArray();
    }

    private static void assertRefused(ThrowingCallable deploy, Status.Code code, String message) {
        assertThatThrownBy(deploy).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    private static void assertNothingLoaded(TestRuntime runtime) {
        assertThat(runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                .isEmpty();
    }
}
