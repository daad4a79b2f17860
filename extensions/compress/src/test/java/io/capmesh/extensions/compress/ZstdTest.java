package io.capmesh.extensions.compress;

import static io.capmesh.extensions.compress.Support.call;
import static io.capmesh.extensions.compress.Support.failure;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdOutputStream;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Frames are checked against zstd-jni, the reference C library, which is a test dependency only. */
class ZstdTest {

    final CompressExtension extension = Support.started(Map.of());

    @Test
    void zstdOutputIsReadByTheReferenceLibrary() throws Exception {
        for (byte[] input : new byte[][] {new byte[0], "hello".getBytes(), Support.text(3 << 20), Support.random(1 << 20, 2)}) {
            byte[] compressed = call(extension, "zstd", input);

            assertThat(compressed).startsWith(0x28, 0xb5, 0x2f, 0xfd);
            assertThat(Zstd.decompress(compressed, input.length)).isEqualTo(input);
        }
        assertThat(call(extension, "zstd", Support.text(3 << 20)).length).isLessThan(1 << 20);
    }

    @Test
    void unzstdReadsFramesFromTheReferenceLibrary() throws Exception {
        byte[] input = Support.text(2 << 20);

        for (int level : new int[] {1, 3, 19}) {
            assertThat(call(extension, "unzstd", Zstd.compress(input, level))).as("level %d", level).isEqualTo(input);
        }
        assertThat(call(extension, "unzstd", referenceStream(input, true))).isEqualTo(input);
        assertThat(call(extension, "unzstd", Zstd.compress(new byte[0]))).isEmpty();
    }

    @Test
    void unzstdJoinsConsecutiveFrames() throws Exception {
        byte[] first = Zstd.compress("first,".getBytes());
        byte[] second = call(extension, "zstd", "second".getBytes());
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);

        assertThat(new String(call(extension, "unzstd", both))).isEqualTo("first,second");
    }

    @Test
    void refusesWhatIsNotZstd() {
        var plain = failure(() -> call(extension, "unzstd", "plain text".getBytes()));
        var empty = failure(() -> call(extension, "unzstd", new byte[0]));

        assertThat(plain.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(plain.getMessage()).startsWith("not zstd data");
        assertThat(empty.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(empty.getMessage()).startsWith("not zstd data");
    }

    @Test
    void refusesTruncatedAndCorruptZstd() throws Exception {
        byte[] good = referenceStream(Support.text(100_000), true);
        byte[] truncated = Arrays.copyOf(good, good.length - 100);
        byte[] badChecksum = good.clone();
        badChecksum[good.length - 1] ^= 1;

        var cut = failure(() -> call(extension, "unzstd", truncated));
        var checksum = failure(() -> call(extension, "unzstd", badChecksum));

        assertThat(cut.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(cut.getMessage()).startsWith("truncated zstd data");
        assertThat(checksum.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(checksum.getMessage()).startsWith("corrupt zstd data").contains("checksum");
    }

    @Test
    void damagedInputIsAlwaysAnsweredAsInvalidArgument() throws Exception {
        byte[][] goods = {Zstd.compress(Support.text(20_000), 3), referenceStream(Support.random(5_000, 3), true)};
        Random random = new Random(11);
        for (int i = 0; i < 4_000; i++) {
            byte[] damaged = goods[i % goods.length].clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                damaged[random.nextInt(damaged.length)] ^= (byte) (1 + random.nextInt(255));
            }
            try {
                call(extension, "unzstd", damaged);
            } catch (CapabilityException e) {
                assertThat(e.reason()).as(e.getMessage()).isEqualTo(Reason.INVALID_ARGUMENT);
            }
        }
    }

    @Test
    void frameHeadersThatClaimHugeSizesAllocateNothingLarge() {
        // Window descriptor 0xA8: a 2 GiB window, which the decoder must refuse rather than allocate.
        byte[] hugeWindow = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x00, (byte) 0xA8, 0x01, 0x00, 0x00};
        // Single segment with a declared content size of 1 GiB, followed by one empty last block.
        byte[] hugeContent = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, (byte) 0xA0, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00};

        long allocated = Support.allocatedDuring(() -> {
            assertThat(failure(() -> call(extension, "unzstd", hugeWindow)).reason()).isEqualTo(Reason.INVALID_ARGUMENT);
            try {
                assertThat(call(extension, "unzstd", hugeContent)).isEmpty();
            } catch (CapabilityException e) {
                assertThat(e.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });

        assertThat(allocated).isLessThan(64L << 20);
    }

    /** A frame written by zstd-jni's streaming API: no content size in the header, optionally a checksum. */
    static byte[] referenceStream(byte[] input, boolean checksum) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZstdOutputStream zstd = new ZstdOutputStream(out)) {
            zstd.setChecksum(checksum);
            zstd.write(input);
        }
        return out.toByteArray();
    }
}
