package io.capmesh.runtime.pkg;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capmesh.runtime.Problem;
import io.grpc.Status;

/**
 * Any bytes as {@code extension.json}: a manifest comes out, or INVALID_ARGUMENT with a message. Anything else
 * (a NullPointerException, a stack overflow) would reach a deploying client as an unexplained failure. The seeds
 * and regressions are in {@code ManifestReaderFuzzTestInputs/}; see docs/testing.md, "Fuzzing", for fuzzing longer.
 */
class ManifestReaderFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void readsAnyManifest(byte[] json) {
        try {
            ExtensionManifest manifest = ManifestReader.read(json, "fuzzed");
            assertThat(ManifestReader.check(manifest)).isEmpty();
            assertThat(ManifestReader.read(ManifestReader.write(manifest), "rewritten")).isEqualTo(manifest);
        } catch (Problem.ProblemException refused) {
            assertThat(refused.problem().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(refused.problem().message()).startsWith("fuzzed: ");
        }
    }
}
