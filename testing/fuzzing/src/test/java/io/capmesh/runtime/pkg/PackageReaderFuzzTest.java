package io.capmesh.runtime.pkg;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capmesh.runtime.Problem;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.SigningKeys;
import io.capmesh.signing.TrustedKeys;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Any bytes as an uploaded package, through every check a deploy makes before loading (limits, zip structure,
 * signature, manifest, forbidden calls): a package comes out, or a refusal with a status a client can act on.
 * Seeds (small jars, signed and not) and regressions: {@code PackageReaderFuzzTestInputs/}.
 */
class PackageReaderFuzzTest {

    private static final Set<Status.Code> REFUSALS = Set.of(Status.Code.INVALID_ARGUMENT,
            Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED);

    private static Path jars;
    private static PackageReader reader;

    @BeforeAll
    static void reader() throws IOException {
        jars = Files.createTempDirectory("capmesh-fuzz-jars");
        // small limits, so that a zip bomb is refused in microseconds
        reader = new PackageReader(jars, new PackageReader.Limits(1 << 20, 4 << 20, 200), new PackageVerifier(
                SignaturePolicy.VERIFY_IF_SIGNED,
                TrustedKeys.of(List.of(SigningKeys.generate(SignatureAlgorithm.ED25519).getPublic()))));
    }

    @AfterAll
    static void removeJars() throws IOException {
        try (var files = Files.walk(jars)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        }
    }

    @FuzzTest(maxDuration = "5m")
    void readsAnyPackage(byte[] jar) throws IOException {
        try {
            ExtensionPackage pkg = reader.read(new ByteArrayInputStream(jar), "fuzzed.jar", null);
            assertThat(pkg.size()).isEqualTo(jar.length);
            assertThat(ManifestReader.check(pkg.manifest())).isEmpty();
            Files.delete(pkg.jar()); // a long run would otherwise fill the disk
        } catch (Problem.ProblemException refused) {
            assertThat(refused.problem().code()).isIn(REFUSALS);
            assertThat(refused.problem().message()).contains("fuzzed.jar");
        } catch (UncheckedIOException e) {
            throw new AssertionError("an I/O failure on bytes in memory", e);
        }
        try (var left = Files.list(jars)) {
            assertThat(left).as("staged files are removed").isEmpty();
        }
    }
}
