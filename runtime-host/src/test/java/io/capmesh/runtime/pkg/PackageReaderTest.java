package io.capmesh.runtime.pkg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.runtime.Problem;
import io.capmesh.runtime.TestExtensions;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the reader leaves on the runtime's disk: the accepted jar under its content hash, and nothing else. */
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

    @Test
    void aRefusedPackageLeavesNothingBehind() throws Exception {
        PackageReader reader = new PackageReader(jars, PackageReader.Limits.DEFAULT);

        for (byte[] refused : new byte[][] {new byte[0], "PK".getBytes(), "not a jar at all".getBytes()}) {
            assertThatThrownBy(() -> reader.read(new ByteArrayInputStream(refused), "upload", null))
                    .isInstanceOfSatisfying(Problem.ProblemException.class,
                            e -> assertThat(e.problem().code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
        assertThat(files()).isEmpty();
    }

    private Set<Path> files() throws Exception {
        try (Stream<Path> files = Files.list(jars)) {
            return Set.copyOf(files.toList());
        }
    }
}
