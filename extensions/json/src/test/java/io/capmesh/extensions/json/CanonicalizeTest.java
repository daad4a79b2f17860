package io.capmesh.extensions.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.extension.api.CapabilityException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Expectations are the examples printed in RFC 8785. */
class CanonicalizeTest {

    static Calls calls;

    @BeforeAll
    static void start() throws Exception {
        calls = new Calls();
    }

    @AfterAll
    static void stop() throws Exception {
        calls.close();
    }

    @Test
    void matchesTheRfcExampleByteForByte() throws Exception {
        // RFC 8785 section 3.2.2 input; section 3.2.3 output, as the UTF-8 bytes listed in section 3.2.4.
        String input = """
                {
                  "numbers": [333333333.33333329, 1E30, 4.50,
                              2e-3, 0.000000000000000000000000001],
                  "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
                  "literals": [null, true, false]
                }""";
        byte[] expected = HexFormat.of().parseHex("""
                7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
                75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
                5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
                65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
                5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
                30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d""".replaceAll("\\s", ""));

        assertThat(calls.bytes("canonicalize", input.getBytes(StandardCharsets.UTF_8))).isEqualTo(expected);
    }

    @Test
    void sortsMembersByUtf16CodeUnits() throws Exception {
        // RFC 8785 section 3.2.3: the emoji (a surrogate pair, 0xD83D...) sorts before U+FB33.
        String input = """
                {
                  "\\u20ac": "Euro Sign",
                  "\\r": "Carriage Return",
                  "\\ufb33": "Hebrew Letter Dalet With Dagesh",
                  "1": "One",
                  "\\ud83d\\ude00": "Emoji: Grinning Face",
                  "\\u0080": "Control",
                  "\\u00f6": "Latin Small Letter O With Diaeresis"
                }""";

        assertThat(calls.call("canonicalize", input)).isEqualTo("{\"\\r\":\"Carriage Return\",\"1\":\"One\","
                + "\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
                + "\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}");
    }

    @ParameterizedTest(name = "0x{0} -> {1}")
    @CsvSource({
            "0000000000000000, 0",
            "8000000000000000, 0",
            "0000000000000001, 5e-324",
            "8000000000000001, -5e-324",
            "7fefffffffffffff, 1.7976931348623157e+308",
            "ffefffffffffffff, -1.7976931348623157e+308",
            "4340000000000000, 9007199254740992",
            "c340000000000000, -9007199254740992",
            "4430000000000000, 295147905179352830000",
            "44b52d02c7e14af5, 9.999999999999997e+22",
            "44b52d02c7e14af6, 1e+23",
            "44b52d02c7e14af7, 1.0000000000000001e+23",
            "444b1ae4d6e2ef4e, 999999999999999700000",
            "444b1ae4d6e2ef4f, 999999999999999900000",
            "444b1ae4d6e2ef50, 1e+21",
            "3eb0c6f7a0b5ed8c, 9.999999999999997e-7",
            "3eb0c6f7a0b5ed8d, 0.000001",
            "41b3de4355555553, 333333333.3333332",
            "41b3de4355555554, 333333333.33333325",
            "41b3de4355555555, 333333333.3333333",
            "41b3de4355555556, 333333333.3333334",
            "41b3de4355555557, 333333333.33333343",
            "becbf647612f3696, -0.0000033333333333333333",
            "43143ff3c1cb0959, 1424953923781206.2",
    })
    void formatsTheAppendixBNumbers(String ieee754, String expected) throws Exception {
        double value = Double.longBitsToDouble(Long.parseUnsignedLong(ieee754, 16));

        // Java prints a double so that it parses back to the same bits, which makes it valid input text here.
        assertThat(calls.call("canonicalize", "[" + value + "]")).isEqualTo("[" + expected + "]");
    }

    @Test
    void parsesLongIntegersAndDecimalsToTheNearestDouble() throws Exception {
        assertThat(calls.call("canonicalize", "[9007199254740993, 123456789012345678901234567890, 1.0, -0.0, 100]"))
                .isEqualTo("[9007199254740992,1.2345678901234568e+29,1,0,100]");
    }

    @Test
    void rejectsWhatRfc8785Forbids() {
        var overflow = calls.failure("canonicalize", "{\"n\": 1e400}");
        var duplicate = calls.failure("canonicalize", "{\"a\": 1, \"a\": 1}");
        var loneSurrogate = calls.failure("canonicalize", "[\"\\udc00x\"]");

        assertThat(overflow.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(overflow.getMessage()).contains("1E+400").contains("IEEE 754");
        assertThat(duplicate.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(loneSurrogate.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(loneSurrogate.getMessage()).contains("\\udc00");
    }

    @Test
    void escapesOnlyWhatJsonRequires() throws Exception {
        assertThat(calls.call("canonicalize", "[\"\\u0000\\u001f\\u007f\\u2028/\\t\"]"))
                .isEqualTo("[\"\\u0000\\u001f\u007f\u2028/\\t\"]");
    }
}
