package io.capmesh.runtime;

import io.capmesh.runtime.pkg.Repackager;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.runtime.pkg.PackageReader;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each bad input gets a clear status and changes nothing: the runtime keeps exactly what it had. */
class BadInputTest {

    private static final long EXPAND_LIMIT = 8L << 20;

    @TempDir
    Path data;

    private TestRuntime runtime;
    private byte[] echo;

    @BeforeEach
    void start() throws Exception {
        runtime = new TestRuntime(RuntimeSettings.defaults(data)
                .withPackageLimits(new PackageReader.Limits(16L << 20, EXPAND_LIMIT, 1_000)));
        echo = TestExtensions.bytes("capmesh-ext-echo");
        runtime.deploy(echo);
    }

    @AfterEach
    void stop() throws Exception {
        runtime.close();
    }

    @Test
    void notAJar() {
        rejectsDeploy("hello, I am not a jar".getBytes(StandardCharsets.UTF_8), Status.Code.INVALID_ARGUMENT,
                "not a jar");
        rejectsDeploy("PK".getBytes(StandardCharsets.UTF_8), Status.Code.INVALID_ARGUMENT, "not a jar");
    }

    @Test
    void anEmptyPackage() {
        rejectsDeploy(new byte[0], Status.Code.INVALID_ARGUMENT, "is empty");
    }

    @Test
    void aTruncatedJar() {
        rejectsDeploy(Arrays.copyOf(echo, echo.length * 2 / 3), Status.Code.INVALID_ARGUMENT, "truncated");
    }

    @Test
    void aZipBomb() throws Exception {
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bomb)) {
            zip.putNextEntry(new ZipEntry("META-INF/capmesh/extension.json"));
            zip.write(manifest("core-bomb", "core.bomb").getBytes(StandardCharsets.UTF_8));
            zip.putNextEntry(new ZipEntry("zeros.bin"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                zip.write(zeros); // 64 MiB that deflate to about 64 KiB
            }
        }
        assertThat(bomb.size()).isLessThan(1 << 20);
        rejectsDeploy(bomb.toByteArray(), Status.Code.INVALID_ARGUMENT, "zip bomb");
    }

    @Test
    void aPackageOverTheSizeLimit() throws Exception {
        ByteArrayOutputStream big = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(big)) {
            zip.setLevel(0);
            zip.putNextEntry(new ZipEntry("random.bin"));
            byte[] noise = new byte[17 << 20];
            new java.util.Random(1).nextBytes(noise);
            zip.write(noise);
        }
        rejectsDeploy(big.toByteArray(), Status.Code.RESOURCE_EXHAUSTED, "larger than the limit");
    }

    @Test
    void anEmptyManifest() throws Exception {
        rejectsDeploy(TestExtensions.rewriteManifest(echo, m -> ""), Status.Code.INVALID_ARGUMENT,
                "manifest META-INF/capmesh/extension.json is empty");
    }

    @Test
    void aManifestWithSeveralProblemsListsThemAll() throws Exception {
        byte[] bad = TestExtensions.rewriteManifest(echo, m -> manifest("Bad Id!", "nodots")
                .replace("\"1.0.0\"", "\"one\""));
        rejectsDeploy(bad, Status.Code.INVALID_ARGUMENT, "id 'Bad Id!' is not valid",
                "version 'one' is not valid", "capability name 'nodots' is not valid");
    }

    @Test
    void aNonBlockingMethodTheCapabilityDoesNotHave() throws Exception {
        byte[] bad = TestExtensions.rewriteManifest(echo,
                m -> m.replace("\"nonBlocking\": [\"echo\"", "\"nonBlocking\": [\"echo\", \"ecko\", \"no.Such/Method/\""));
        rejectsDeploy(bad, Status.Code.INVALID_ARGUMENT, "has 2 problem(s)",
                "capability core.echo declares 'ecko' non-blocking, but it is neither one of its methods nor a typed"
                        + " gRPC method (package.Service/Method)", "declares 'no.Such/Method/' non-blocking");
    }

    @Test
    void aJarWithoutManifest() throws Exception {
        ByteArrayOutputStream jar = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(jar)) {
            zip.putNextEntry(new ZipEntry("hello.txt"));
            zip.write(1);
        }
        rejectsDeploy(jar.toByteArray(), Status.Code.INVALID_ARGUMENT, "has no META-INF/capmesh/extension.json");
    }

    @Test
    void theSameIdAndVersionTwice() {
        rejectsDeploy(echo, Status.Code.ALREADY_EXISTS, "core-echo@1.0.0 is already loaded");
    }

    @Test
    void aNewVersionThroughDeployInsteadOfSwap() throws Exception {
        rejectsDeploy(Repackager.withVersion(echo, "2.0.0"), Status.Code.FAILED_PRECONDITION,
                "use Swap");
    }

    @Test
    void aCapabilityAnotherExtensionProvides() throws Exception {
        byte[] impostor = TestExtensions.rewriteManifest(echo, m -> m.replace("\"core-echo\"", "\"other-echo\""));
        rejectsDeploy(impostor, Status.Code.FAILED_PRECONDITION, "core.echo is already provided by core-echo@1.0.0");
    }

    @Test
    void anUnknownCapabilityOrMethod() {
        expect(() -> runtime.invoke("core.nothing", "echo", "x"), Status.Code.NOT_FOUND,
                "no capability 'core.nothing'", "core.echo");
        expect(() -> runtime.invoke("core.echo", "shout", "x"), Status.Code.NOT_FOUND,
                "has no method 'shout'", "echo, hold");
        expect(() -> runtime.invoke("", "", "x"), Status.Code.INVALID_ARGUMENT, "required");
    }

    @Test
    void anOversizedPayload() {
        byte[] big = new byte[5 << 20];
        expect(() -> runtime.stub().invoke(InvokeRequest.newBuilder().setCapability("core.echo").setMethod("echo")
                .setPayload(ByteString.copyFrom(big)).build()), Status.Code.RESOURCE_EXHAUSTED, "exceeds maximum");
        assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "still here"))).isEqualTo("still here");
    }

    @Test
    void aBadExtensionArgumentIsTheCallersMistake() {
        expect(() -> runtime.invoke("core.echo", "hold", "soon"), Status.Code.INVALID_ARGUMENT,
                "whole number of milliseconds");
    }

    private void rejectsDeploy(byte[] jar, Status.Code code, String... messageParts) {
        List<String> before = loaded();
        expect(() -> runtime.deploy(jar), code, messageParts);
        assertThat(loaded()).as("extensions after a rejected deploy").isEqualTo(before);
        assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "ok"))).isEqualTo("ok");
        try (var files = Files.list(data.resolve("jars"))) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("incoming-"));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private List<String> loaded() {
        return runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList().stream()
                .map(e -> e.getManifest().getId() + "@" + e.getManifest().getVersion() + ":" + e.getSha256())
                .toList();
    }

    private static void expect(ThrowingCallable call, Status.Code code, String... messageParts) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messageParts);
        });
    }

    private static String manifest(String id, String capability) {
        return """
                {"id": "%s", "version": "1.0.0", "entryClass": "x.Y",
                 "capabilities": [{"name": "%s", "version": "1.0.0", "methods": ["go"]}]}"""
                .formatted(id, capability);
    }
}
