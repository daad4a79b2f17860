package io.capmesh.extensions.crypto;

import static io.capmesh.extensions.crypto.Calls.hex;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException.Reason;
import io.capmesh.extensions.crypto.v1.DigestRequest;
import io.capmesh.extensions.crypto.v1.DigestResponse;
import io.capmesh.extensions.crypto.v1.HashAlgorithm;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** crypto.hash against NIST's example values (FIPS 180-4, FIPS 202) and RFC 7693's BLAKE2b example. */
class HashTest {

    private final Calls calls = new Calls();

    HashTest() throws Exception {
    }

    @AfterEach
    void close() throws Exception {
        calls.close();
    }

    @ParameterizedTest(name = "{0}(\"{1}\")")
    @CsvSource(delimiter = '|', textBlock = """
            SHA_256     | abc | ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
            SHA_256     |     | e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            SHA_256     | abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq | 248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1
            SHA_384     | abc | cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7
            SHA_512     | abc | ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f
            SHA3_256    | abc | 3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532
            SHA3_256    |     | a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a
            SHA3_384    | abc | ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25
            SHA3_512    | abc | b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0
            BLAKE2B_512 | abc | ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923
            BLAKE2B_256 | abc | bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319
            """)
    void matchesThePublishedDigests(HashAlgorithm algorithm, String message, String expected) {
        DigestResponse answer = calls.call("crypto.hash", "digest", DigestRequest.newBuilder().setAlgorithm(algorithm)
                .setData(ByteString.copyFrom(message == null ? "" : message, StandardCharsets.US_ASCII)).build(),
                DigestResponse.parser());

        assertThat(hex(answer.getDigest())).isEqualTo(expected);
    }

    @Test
    void asksForAnAlgorithmAndForAPayloadItCanRead() {
        var noAlgorithm = calls.failure("crypto.hash", "digest", DigestRequest.newBuilder()
                .setData(ByteString.copyFromUtf8("abc")).build());
        assertThat(noAlgorithm.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(noAlgorithm).hasMessageStartingWith("algorithm is required: one of SHA_256");

        var unknown = calls.failure("crypto.hash", "digest", DigestRequest.newBuilder().setAlgorithmValue(99).build());
        assertThat(unknown.reason()).isEqualTo(Reason.INVALID_ARGUMENT);

        var garbage = calls.failure("crypto.hash", "digest", new byte[] {(byte) 0xff, 0x01, 0x02});
        assertThat(garbage.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(garbage).hasMessage("crypto.hash/digest takes a serialized capmesh.crypto.v1.DigestRequest "
                + "(protobuf) as its payload; this one does not parse");
    }
}
