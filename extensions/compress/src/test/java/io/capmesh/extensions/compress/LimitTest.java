package io.capmesh.extensions.compress;

import static io.capmesh.extensions.compress.Support.call;
import static io.capmesh.extensions.compress.Support.failure;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.ZstdOutputStream;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Output limits: decompression bombs are stopped while streaming, and calls can only lower the limit. */
class LimitTest {

    static final long GIB = 1L << 30;
    static final long DEFAULT = 16L << 20;

    static byte[] gzipBomb;
    static byte[] zstdBomb;

    @BeforeAll
    static void makeBombs() throws Exception {
        gzipBomb = Support.jdkGzipOfZeros(GIB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZstdOutputStream zstd = new ZstdOutputStream(out)) {
            Support.writeZeros(zstd, GIB);
        }
        zstdBomb = out.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"gunzip", "unzstd"})
    void refusesAGibibyteOfZerosQuicklyAndWithoutInflatingIt(String method) {
        byte[] bomb = method.equals("gunzip") ? gzipBomb : zstdBomb;
        assertThat(bomb.length).isLessThan(2 << 20);
        CompressExtension extension = Support.started(Map.of());
        CapabilityException[] refusal = new CapabilityException[1];
        long started = System.nanoTime();

        long allocated = Support.allocatedDuring(() -> refusal[0] = failure(() -> call(extension, method, bomb)));

        assertThat(System.nanoTime() - started).isLessThan(5_000_000_000L);
        assertThat(allocated).isLessThan(128L << 20);
        assertThat(refusal[0].reason()).isEqualTo(Reason.RESOURCE_EXHAUSTED);
        assertThat(refusal[0].getMessage()).contains("limit of " + DEFAULT + " bytes").contains("max-output-bytes");
    }

    @ParameterizedTest
    @CsvSource({"gzip, gunzip", "zstd, unzstd"})
    void allowsExactlyTheDefaultLimit(String compress, String decompress) throws Exception {
        CompressExtension extension = Support.started(Map.of());
        byte[] atLimit = call(extension, compress, new byte[(int) DEFAULT]);
        byte[] overLimit = call(extension, compress, new byte[(int) DEFAULT + 1]);

        assertThat(call(extension, decompress, atLimit)).hasSize((int) DEFAULT);
        assertThat(failure(() -> call(extension, decompress, overLimit)).reason()).isEqualTo(Reason.RESOURCE_EXHAUSTED);
    }

    @Test
    void aCallCanLowerTheLimitForItself() throws Exception {
        CompressExtension extension = Support.started(Map.of());
        byte[] input = Support.text(1000);
        byte[] compressed = call(extension, "gzip", input);

        assertThat(call(extension, "gunzip", compressed, Map.of("max-output-bytes", "1000"))).isEqualTo(input);
        var refusal = failure(() -> call(extension, "gunzip", compressed, Map.of("max-output-bytes", "999")));
        assertThat(refusal.reason()).isEqualTo(Reason.RESOURCE_EXHAUSTED);
        assertThat(refusal.getMessage()).contains("limit of 999 bytes");
    }

    @Test
    void aCallCannotRaiseTheLimit() throws Exception {
        CompressExtension extension = Support.started(Map.of());
        byte[] twentyMiB = Support.jdkGzipOfZeros(20L << 20);

        var refusal = failure(() -> call(extension, "gunzip", twentyMiB, Map.of("max-output-bytes", String.valueOf(64L << 20))));

        assertThat(refusal.reason()).isEqualTo(Reason.RESOURCE_EXHAUSTED);
        assertThat(refusal.getMessage()).contains("limit of " + DEFAULT + " bytes");
    }

    @Test
    void theSettingReplacesTheDefaultAndCallsStayBelowIt() throws Exception {
        CompressExtension small = Support.started(Map.of("max-output-bytes", "1000"));
        byte[] compressed = call(small, "zstd", Support.text(2000));

        var refusal = failure(() -> call(small, "unzstd", compressed, Map.of("max-output-bytes", "5000")));
        assertThat(refusal.reason()).isEqualTo(Reason.RESOURCE_EXHAUSTED);
        assertThat(refusal.getMessage()).contains("limit of 1000 bytes");

        CompressExtension large = Support.started(Map.of("max-output-bytes", String.valueOf(32L << 20)));
        assertThat(call(large, "gunzip", Support.jdkGzipOfZeros(20L << 20))).hasSize(20 << 20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ten", "-5", "0", "1.5", "", "0x10", "99999999999999999999"})
    void refusesAMalformedLimitAttribute(String value) throws Exception {
        CompressExtension extension = Support.started(Map.of());
        byte[] compressed = call(extension, "gzip", "x".getBytes());

        var refusal = failure(() -> call(extension, "gunzip", compressed, Map.of("max-output-bytes", value)));

        assertThat(refusal.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(refusal.getMessage()).contains("max-output-bytes").contains("'" + value + "'");
    }

    @Test
    void refusesToStartWithAMalformedSetting() {
        var refusal = failure(() -> Support.started(Map.of("max-output-bytes", "lots")));

        assertThat(refusal.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(refusal.getMessage()).contains("setting max-output-bytes");
    }

    @Test
    void unknownMethodIsNotFoundAndListsTheMethods() {
        var refusal = failure(() -> call(Support.started(Map.of()), "bzip2", new byte[1]));

        assertThat(refusal.reason()).isEqualTo(Reason.NOT_FOUND);
        assertThat(refusal.getMessage()).contains("bzip2").contains("gzip, gunzip, zstd, unzstd");
    }
}
