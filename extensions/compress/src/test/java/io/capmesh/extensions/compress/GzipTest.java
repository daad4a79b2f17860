package io.capmesh.extensions.compress;

import static io.capmesh.extensions.compress.Support.call;
import static io.capmesh.extensions.compress.Support.failure;
import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class GzipTest {

    final CompressExtension extension = Support.started(Map.of());

    @Test
    void gzipOutputIsReadByTheJdk() throws Exception {
        for (byte[] input : new byte[][] {new byte[0], "hello".getBytes(), Support.text(3 << 20), Support.random(1 << 20, 1)}) {
            byte[] compressed = call(extension, "gzip", input);

            assertThat(compressed).startsWith(0x1f, 0x8b);
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(compressed))) {
                assertThat(in.readAllBytes()).isEqualTo(input);
            }
        }
        assertThat(call(extension, "gzip", Support.text(3 << 20)).length).isLessThan(1 << 20);
    }

    @Test
    void gunzipReadsWhatTheJdkWrote() throws Exception {
        byte[] input = Support.text(2 << 20);

        assertThat(call(extension, "gunzip", jdkGzip(input))).isEqualTo(input);
        assertThat(call(extension, "gunzip", jdkGzip(new byte[0]))).isEmpty();
    }

    @Test
    void gunzipJoinsConcatenatedMembers() throws Exception {
        // RFC 1952: a gzip file is a series of members; their data is concatenated.
        byte[] first = jdkGzip("first,".getBytes());
        byte[] second = jdkGzip("second".getBytes());
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);

        assertThat(new String(call(extension, "gunzip", both))).isEqualTo("first,second");
    }

    @Test
    void refusesWhatIsNotGzip() {
        var plain = failure(() -> call(extension, "gunzip", "plain text".getBytes()));
        var empty = failure(() -> call(extension, "gunzip", new byte[0]));

        assertThat(plain.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(plain.getMessage()).startsWith("not gzip data");
        assertThat(empty.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(empty.getMessage()).startsWith("not gzip data");
    }

    @Test
    void refusesTruncatedAndCorruptGzip() throws Exception {
        byte[] good = jdkGzip(Support.text(100_000));
        byte[] truncated = Arrays.copyOf(good, good.length - 100);
        byte[] badCrc = good.clone();
        badCrc[good.length - 8] ^= 1;

        var cut = failure(() -> call(extension, "gunzip", truncated));
        var crc = failure(() -> call(extension, "gunzip", badCrc));

        assertThat(cut.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(cut.getMessage()).startsWith("truncated gzip data");
        assertThat(crc.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(crc.getMessage()).startsWith("corrupt gzip data");
    }

    @Test
    void damagedInputIsAlwaysAnsweredAsInvalidArgument() throws Exception {
        byte[] good = jdkGzip(Support.text(20_000));
        Random random = new Random(7);
        for (int i = 0; i < 2_000; i++) {
            byte[] damaged = good.clone();
            damaged[random.nextInt(damaged.length)] ^= (byte) (1 + random.nextInt(255));
            try {
                call(extension, "gunzip", damaged);
            } catch (CapabilityException e) {
                assertThat(e.reason()).as(e.getMessage()).isEqualTo(Reason.INVALID_ARGUMENT);
            }
        }
    }

    static byte[] jdkGzip(byte[] input) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(input);
        }
        return out.toByteArray();
    }
}
