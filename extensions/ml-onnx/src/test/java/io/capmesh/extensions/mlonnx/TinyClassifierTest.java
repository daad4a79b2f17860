package io.capmesh.extensions.mlonnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The shipped model is exactly what its generator writes, so it can always be remade from the repository. */
class TinyClassifierTest {

    @Test
    void theCheckedInModelIsWhatTheGeneratorWrites() throws Exception {
        try (InputStream shipped = getClass().getResourceAsStream("/models/tiny-classifier.onnx")) {
            assertThat(shipped).as("models/tiny-classifier.onnx").isNotNull();
            assertThat(sha256(shipped.readAllBytes()))
                    .as("models/tiny-classifier.onnx differs from TinyClassifier's output; regenerate it with the "
                            + "command in TinyClassifier's doc comment")
                    .isEqualTo(sha256(TinyClassifier.model()));
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)) + " (" + bytes.length
                + " bytes)";
    }
}
