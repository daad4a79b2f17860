package io.capmesh.extensions.crypto;

import static io.capmesh.extensions.crypto.Calls.assertShowsNone;
import static io.capmesh.extensions.crypto.Calls.hex;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import io.capmesh.extensions.crypto.v1.ComputeMacRequest;
import io.capmesh.extensions.crypto.v1.ComputeMacResponse;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.VerifyMacRequest;
import io.capmesh.extensions.crypto.v1.VerifyMacResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** crypto.mac against RFC 4231's HMAC-SHA-2 test cases, and what it refuses. */
class MacTest {

    private final Calls calls = new Calls();

    MacTest() throws Exception {
    }

    @AfterEach
    void close() throws Exception {
        calls.close();
    }

    /** RFC 4231 section 4: test cases 1, 2, 3 and 6 (key, data) for each hash. */
    @ParameterizedTest(name = "RFC 4231 case {0}, {1}")
    @CsvSource(delimiter = '|', textBlock = """
            1 | HMAC_SHA256 | b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7
            1 | HMAC_SHA384 | afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6
            1 | HMAC_SHA512 | 87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854
            2 | HMAC_SHA256 | 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
            2 | HMAC_SHA384 | af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649
            2 | HMAC_SHA512 | 164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737
            3 | HMAC_SHA256 | 773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe
            3 | HMAC_SHA384 | 88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27
            3 | HMAC_SHA512 | fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb
            6 | HMAC_SHA256 | 60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54
            6 | HMAC_SHA384 | 4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952
            6 | HMAC_SHA512 | 80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598
            """)
    void matchesRfc4231(int testCase, KeyType type, String expected) {
        byte[][] vector = rfc4231(testCase);
        String keyId = calls.importKey(type, vector[0]);

        ComputeMacResponse mac = calls.call("crypto.mac", "compute", ComputeMacRequest.newBuilder().setKeyId(keyId)
                .setData(ByteString.copyFrom(vector[1])).build(), ComputeMacResponse.parser());

        assertThat(hex(mac.getMac())).isEqualTo(expected);
        assertThat(calls.call("crypto.mac", "verify", verify(keyId, vector[1], mac.getMac().toByteArray()),
                VerifyMacResponse.parser())).isEqualTo(VerifyMacResponse.getDefaultInstance());
    }

    @Test
    void refusesAlteredDataAlteredMacsAndOtherKeysAlikeWithoutShowingAnything() {
        byte[][] vector = rfc4231(2);
        String keyId = calls.importKey(KeyType.HMAC_SHA256, vector[0]);
        byte[] mac = hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        byte[] alteredData = vector[1].clone();
        alteredData[0] ^= 1;
        byte[] alteredMac = mac.clone();
        alteredMac[31] ^= (byte) 0x80;
        String otherKey = calls.importKey(KeyType.HMAC_SHA256, "Jeff".getBytes(StandardCharsets.US_ASCII));

        for (VerifyMacRequest bad : new VerifyMacRequest[] {verify(keyId, alteredData, mac),
                verify(keyId, vector[1], alteredMac), verify(otherKey, vector[1], mac)}) {
            CapabilityException failure = calls.failure("crypto.mac", "verify", bad);
            assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
            assertThat(failure).hasMessage(Macs.MISMATCH);
            assertShowsNone(failure.getMessage(), vector[0], mac);
        }
    }

    @Test
    void saysWhatIsMalformed() {
        String keyId = calls.importKey(KeyType.HMAC_SHA256, rfc4231(1)[0]);
        byte[] truncated = Arrays.copyOf(hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"), 16);

        assertThat(calls.failure("crypto.mac", "verify", verify(keyId, "Hi There".getBytes(), truncated)))
                .hasMessage("an HMAC_SHA256 MAC is 32 bytes; got 16")
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);

        String aesKey = calls.generate(KeyType.AES_GCM);
        assertThat(calls.failure("crypto.mac", "compute", ComputeMacRequest.newBuilder().setKeyId(aesKey).build()))
                .hasMessage("key '" + aesKey + "' is an AES_GCM key; crypto.mac takes HMAC_SHA256 or HMAC_SHA384 "
                        + "or HMAC_SHA512 keys")
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);

        assertThat(calls.failure("crypto.mac", "compute", ComputeMacRequest.newBuilder().setKeyId("nope").build()))
                .hasMessage("no key 'nope' in this runtime's key store")
                .extracting(CapabilityException::reason).isEqualTo(Reason.NOT_FOUND);
        assertThat(calls.failure("crypto.mac", "compute", ComputeMacRequest.getDefaultInstance()))
                .hasMessage("key_id is required")
                .extracting(CapabilityException::reason).isEqualTo(Reason.INVALID_ARGUMENT);
    }

    @Test
    void generatedKeysHaveTheHashSizeAndVerifyTheirOwnMacs() {
        for (KeyType type : new KeyType[] {KeyType.HMAC_SHA256, KeyType.HMAC_SHA384, KeyType.HMAC_SHA512}) {
            String keyId = calls.generate(type);
            byte[] key = calls.store.find(keyId).orElseThrow().secret();
            byte[] mac = calls.call("crypto.mac", "compute", ComputeMacRequest.newBuilder().setKeyId(keyId)
                    .setData(ByteString.copyFromUtf8("data")).build(), ComputeMacResponse.parser())
                    .getMac().toByteArray();

            assertThat(key).hasSize(Macs.length(type));
            assertThat(mac).hasSize(Macs.length(type));
            calls.call("crypto.mac", "verify", verify(keyId, "data".getBytes(), mac), VerifyMacResponse.parser());
        }
    }

    private static VerifyMacRequest verify(String keyId, byte[] data, byte[] mac) {
        return VerifyMacRequest.newBuilder().setKeyId(keyId).setData(ByteString.copyFrom(data))
                .setMac(ByteString.copyFrom(mac)).build();
    }

    /** The key and data of an RFC 4231 test case. */
    private static byte[][] rfc4231(int testCase) {
        return switch (testCase) {
            case 1 -> new byte[][] {repeat(0x0b, 20), "Hi There".getBytes(StandardCharsets.US_ASCII)};
            case 2 -> new byte[][] {"Jefe".getBytes(StandardCharsets.US_ASCII),
                    "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII)};
            case 3 -> new byte[][] {repeat(0xaa, 20), repeat(0xdd, 50)};
            case 6 -> new byte[][] {repeat(0xaa, 131),
                    "Test Using Larger Than Block-Size Key - Hash Key First".getBytes(StandardCharsets.US_ASCII)};
            default -> throw new IllegalArgumentException("no test case " + testCase);
        };
    }

    private static byte[] repeat(int value, int count) {
        byte[] bytes = new byte[count];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
