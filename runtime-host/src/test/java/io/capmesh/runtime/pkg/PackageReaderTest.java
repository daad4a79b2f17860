package io.capmesh.runtime.pkg;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.runtime.TestExtensions;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the reader leaves on the runtime's disk for an accepted package: its jar under its content hash, and nothing
 * else (a refused one leaves nothing: {@code BadInputTest}).
 */
class PackageReaderTest {

    @TempDir
    Path jars;

    @Test
    void anAcceptedPackageIsKeptUnderItsHashForTheRuntimesUserOnly() throws Exception {
        byte[] jar = TestExtensions.bytes("capmesh-ext-echo");
        PackageReader reader = new PackageReader(jars, PackageReader.Limits.DEFAULT);

        ExtensionPackage pkg = reader.read(new ByteArrayInputStream(jar), "echo.jar", null);

        assertThat(pkg.jar()).isEqualTo(jars.resolve(pkg.sha256() + ".jar"));
        assertThat(Files.readAllBytes(pkg.jar())).isEqualTo(jar);
        assertThat(Files.getPosixFilePermissions(pkg.jar()))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(files()).containsExactly(pkg.jar());

        ExtensionPackage again = reader.read(new ByteArrayInputStream(jar), "echo.jar", null);
        assertThat(again.jar()).as("the same bytes read twice").isEqualTo(pkg.jar());
        assertThat(files()).containsExactly(pkg.jar());
    }

    private Set<Path> files() throws Exception {
        try (Stream<Path> files = Files.list(jars)) {
            return Set.copyOf(files.toList());
        }
    }
}
