package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.ExtensionPackage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An extension's classes are defined from the class files its package's checks read while it loads, and from
 * its jar afterwards: either way they are the jar's classes, defined as the jar's own loader would define them.
 */
class CheckedClassesTest {

    private static final String ENTRY_CLASS = "io/capmesh/extensions/echo/EchoExtension.class";

    @TempDir
    Path data;

    @Test
    void theCheckedClassFilesServeTheLoadAndAreReleasedWhenItEnds() throws Exception {
        try (RuntimeHost host = host()) {
            ExtensionPackage pkg = read(host, TestExtensions.bytes("capmesh-ext-echo"));
            assertThat(pkg.classes().files()).as("class files lent to the load").containsKey(ENTRY_CLASS);

            LoadedExtension loaded = host.runtime().deploy(pkg);

            assertThat(pkg.classes().files()).as("class files held after the load").isNull();
            assertThat(host.runtime().invoke("core.echo", "echo", "hi".getBytes(StandardCharsets.UTF_8), Map.of())
                    .payload()).asString(StandardCharsets.UTF_8).isEqualTo("hi");
            ClassLoader loader = loaded.live().loader();
            assertThat(loader.loadClass("io.capmesh.extensions.echo.v1.EchoGrpc$EchoBlockingStub").getClassLoader())
                    .as("a class first needed after the load, from the jar").isSameAs(loader);
            assertThat(loaded.live().instance().getClass().getProtectionDomain().getCodeSource().getLocation())
                    .isEqualTo(pkg.jar().toUri().toURL());
        }
    }

    @Test
    void packagesAreDefinedWithTheAttributesOfTheJarsManifest() throws Exception {
        byte[] jar = TestExtensions.withEntries(TestExtensions.bytes("capmesh-ext-echo"), Map.of(
                "META-INF/MANIFEST.MF", """
                        Manifest-Version: 1.0
                        Implementation-Title: capmesh echo
                        Implementation-Version: 1.0.0-test

                        Name: io/capmesh/extensions/echo/v1/
                        Implementation-Version: 1.0.0-protocol

                        """.getBytes(StandardCharsets.UTF_8)));
        try (RuntimeHost host = host()) {
            LoadedExtension loaded = host.runtime().deploy(read(host, jar));
            ClassLoader loader = loaded.live().loader();

            Package own = loaded.live().instance().getClass().getPackage();
            assertThat(own.getImplementationTitle()).isEqualTo("capmesh echo");
            assertThat(own.getImplementationVersion()).isEqualTo("1.0.0-test");
            assertThat(loader.loadClass("io.capmesh.extensions.echo.v1.EchoRequest").getPackage()
                    .getImplementationVersion()).as("a package's own section wins").isEqualTo("1.0.0-protocol");
        }
    }

    @Test
    void aMultiReleaseOrJarSignedPackageIsLoadedFromItsJar() throws Exception {
        byte[] echo = TestExtensions.bytes("capmesh-ext-echo");
        byte[] multiRelease = TestExtensions.withEntries(echo, Map.of(
                "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMulti-Release: true\n\n"
                        .getBytes(StandardCharsets.UTF_8),
                "META-INF/versions/11/io/capmesh/extensions/echo/README.txt", new byte[] {'x'}));
        byte[] jarSigned = TestExtensions.withEntries(echo, Map.of("META-INF/SIGNER.SF", new byte[] {'x'}));
        for (byte[] jar : List.of(multiRelease, jarSigned)) {
            try (RuntimeHost host = host()) {
                ExtensionPackage pkg = read(host, jar);
                assertThat(pkg.classes().files()).as("class files lent to the load").isNull();
                host.runtime().deploy(pkg);
                assertThat(host.runtime().invoke("core.echo", "echo", new byte[] {1}, Map.of()).payload())
                        .containsExactly(1);
                host.runtime().unload("core-echo", "", Duration.ZERO);
            }
        }
    }

    private RuntimeHost host() throws IOException {
        RuntimeHost host = new RuntimeHost(RuntimeSettings.defaults(Files.createTempDirectory(data, "runtime")));
        host.start(List.of());
        return host;
    }

    private static ExtensionPackage read(RuntimeHost host, byte[] jar) throws IOException {
        return host.runtime().reader().read(new ByteArrayInputStream(jar), "echo.jar", null);
    }
}
