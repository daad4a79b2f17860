package io.capmesh.runtime.pkg;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;

/**
 * Any bytes as a class file in an uploaded jar: its references come out, or an IOException the package reader
 * knows to expect. Seeds and regressions: {@code ClassFileScannerFuzzTestInputs/}.
 */
class ClassFileScannerFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void scansAnyClassFile(byte[] classFile) {
        try {
            ClassFileScanner.References references = ClassFileScanner.scan(classFile);
            assertThat(references.classes()).doesNotContainNull();
            assertThat(references.methods()).allSatisfy(method -> {
                assertThat(method.owner()).isNotNull();
                assertThat(method.name()).isNotNull();
            });
        } catch (IOException notAClassFile) {
            assertThat(notAClassFile).hasMessageNotContaining("null");
        }
    }
}
