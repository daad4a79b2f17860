package io.capmesh.extensions.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.extension.api.CapabilityException.Reason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ParseTest {

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
    void minifiesKeepingOrderAndNumberText() throws Exception {
        String pretty = """
                {
                  "z" : [ 1, 1.10, -0, 1e400, 12345678901234567890123 ],
                  "a" :\t{ "s" : "caf\\u00e9 \\"x\\"", "t" : true, "n" : null }
                }
                """;

        assertThat(calls.call("parse", pretty)).isEqualTo(
                "{\"z\":[1,1.10,-0,1e400,12345678901234567890123],\"a\":{\"s\":\"café \\\"x\\\"\",\"t\":true,\"n\":null}}");
    }

    @Test
    void acceptsAScalarAtTheRoot() throws Exception {
        assertThat(calls.call("parse", "  \"only\"\n")).isEqualTo("\"only\"");
        assertThat(calls.call("parse", " 42 ")).isEqualTo("42");
    }

    @Test
    void namesLineColumnAndWhatWasExpected() {
        var failure = calls.failure("parse", "{\n  \"a\": 1,\n  \"b\" 2\n}");

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure.getMessage()).contains("line 3, column 7").contains("expecting a colon");
    }

    @Test
    void reportsTruncatedInputWithWhereTheOpenArrayStarted() {
        var failure = calls.failure("parse", "[1, 2");

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure.getMessage())
                .contains("line 1, column 6")
                .contains("expected close marker for Array")
                .doesNotContain("REDACTED");
    }

    @Test
    void rejectsDuplicateNamesTrailingContentAndEmptyPayloads() {
        assertThat(calls.failure("parse", "{\"a\": 1, \"a\": 2}").getMessage()).contains("Duplicate field 'a'");
        assertThat(calls.failure("parse", "[1] [2]").getMessage())
                .contains("line 1, column 5").contains("unexpected content after the JSON value");
        assertThat(calls.failure("parse", " ").getMessage()).contains("empty");
        assertThat(calls.failure("parse", "{'a': 1}").reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(calls.failure("parse", "[01]").reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(calls.failure("parse", "[NaN]").reason()).isEqualTo(Reason.INVALID_ARGUMENT);
    }

    @Test
    void rejectsBytesThatAreNotUtf8() {
        byte[] latin1 = {'[', '"', (byte) 0xE9, '"', ']'};

        var failure = calls.failure("parse", latin1);

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure.getMessage()).contains("UTF-8");
    }

    @Test
    void unknownMethodIsNotFoundAndListsTheMethods() {
        var failure = calls.failure("minify", "{}");

        assertThat(failure.reason()).isEqualTo(Reason.NOT_FOUND);
        assertThat(failure.getMessage()).contains("minify").contains("parse, validate, patch, canonicalize");
    }
}
