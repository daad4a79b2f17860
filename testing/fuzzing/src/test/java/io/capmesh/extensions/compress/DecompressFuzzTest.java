package io.capmesh.extensions.compress;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.Map;

/**
 * Any bytes as a payload to {@code gunzip} and {@code unzstd}: the output within the limit, or a
 * CapabilityException that becomes INVALID_ARGUMENT or RESOURCE_EXHAUSTED. Any other exception would reach the
 * caller as INTERNAL. Seeds and regressions: {@code DecompressFuzzTestInputs/<method>/}.
 */
class DecompressFuzzTest {

    private static final long LIMIT = 1 << 20;
    private static final CompressExtension EXTENSION = started();

    /** The extension as a runtime starts it, with a small output limit. */
    record Context(String id, String version, Map<String, String> settings) implements ExtensionContext {
    }

    @FuzzTest(maxDuration = "5m")
    void gunzip(byte[] payload) {
        decompress("gunzip", payload);
    }

    @FuzzTest(maxDuration = "5m")
    void unzstd(byte[] payload) {
        decompress("unzstd", payload);
    }

    private static CompressExtension started() {
        CompressExtension extension = new CompressExtension();
        extension.start(new Context("core-compress", "1.0.0",
                Map.of(CompressExtension.MAX_OUTPUT_BYTES, Long.toString(LIMIT))));
        return extension;
    }

    private static void decompress(String method, byte[] payload) {
        try {
            byte[] output = EXTENSION.invoke(new Invocation("core.compress", method, payload, Map.of()));
            assertThat((long) output.length).isLessThanOrEqualTo(LIMIT);
        } catch (CapabilityException refused) {
            assertThat(refused.reason()).isIn(CapabilityException.Reason.INVALID_ARGUMENT,
                    CapabilityException.Reason.RESOURCE_EXHAUSTED);
            assertThat(refused.getMessage()).isNotBlank();
        } catch (java.io.IOException e) {
            throw new AssertionError(method + " let an IOException out on bytes in memory", e);
        }
    }
}
