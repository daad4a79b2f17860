package io.capmesh.extensions.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.extension.api.CapabilityException.Reason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The examples of RFC 6902 appendix A, then what this method adds: operation indexes and exact numbers. */
class PatchTest {

    static Calls calls;

    @BeforeAll
    static void start() throws Exception {
        calls = new Calls();
    }

    @AfterAll
    static void stop() throws Exception {
        calls.close();
    }

    static String request(String document, String patch) {
        return "{\"document\": " + document + ", \"patch\": " + patch + "}";
    }

    @ParameterizedTest(name = "RFC 6902 {0}")
    @CsvSource(delimiter = '|', textBlock = """
            A.1  | { "foo": "bar"} | [{ "op": "add", "path": "/baz", "value": "qux" }] | { "baz": "qux", "foo": "bar" }
            A.2  | { "foo": [ "bar", "baz" ] } | [{ "op": "add", "path": "/foo/1", "value": "qux" }] | { "foo": [ "bar", "qux", "baz" ] }
            A.3  | { "baz": "qux", "foo": "bar" } | [{ "op": "remove", "path": "/baz" }] | { "foo": "bar" }
            A.4  | { "foo": [ "bar", "qux", "baz" ] } | [{ "op": "remove", "path": "/foo/1" }] | { "foo": [ "bar", "baz" ] }
            A.5  | { "baz": "qux", "foo": "bar" } | [{ "op": "replace", "path": "/baz", "value": "boo" }] | { "baz": "boo", "foo": "bar" }
            A.6  | { "foo": { "bar": "baz", "waldo": "fred" }, "qux": { "corge": "grault" } } | [{ "op": "move", "from": "/foo/waldo", "path": "/qux/thud" }] | { "foo": { "bar": "baz" }, "qux": { "corge": "grault", "thud": "fred" } }
            A.7  | { "foo": [ "all", "grass", "cows", "eat" ] } | [{ "op": "move", "from": "/foo/1", "path": "/foo/3" }] | { "foo": [ "all", "cows", "eat", "grass" ] }
            A.8  | { "baz": "qux", "foo": [ "a", 2, "c" ] } | [{ "op": "test", "path": "/baz", "value": "qux" }, { "op": "test", "path": "/foo/1", "value": 2 }] | { "baz": "qux", "foo": [ "a", 2, "c" ] }
            A.10 | { "foo": "bar" } | [{ "op": "add", "path": "/child", "value": { "grandchild": { } } }] | { "foo": "bar", "child": { "grandchild": { } } }
            A.11 | { "foo": "bar" } | [{ "op": "add", "path": "/baz", "value": "qux", "xyz": 123 }] | { "foo": "bar", "baz": "qux" }
            A.14 | { "/": 9, "~1": 10 } | [{"op": "test", "path": "/~01", "value": 10}] | { "/": 9, "~1": 10 }
            A.16 | { "foo": ["bar"] } | [{ "op": "add", "path": "/foo/-", "value": ["abc", "def"] }] | { "foo": ["bar", ["abc", "def"]] }
            """)
    void appliesTheRfcExamples(String example, String document, String patch, String expected) throws Exception {
        assertThat(Calls.tree(calls.call("patch", request(document, patch)))).isEqualTo(Calls.tree(expected));
    }

    @ParameterizedTest(name = "RFC 6902 {0} fails")
    @CsvSource(delimiter = '|', textBlock = """
            A.9  | { "baz": "qux" } | [{ "op": "test", "path": "/baz", "value": "bar" }] | /baz
            A.12 | { "foo": "bar" } | [{ "op": "add", "path": "/baz/bat", "value": "qux" }] | /baz/bat
            A.15 | { "/": 9, "~1": 10 } | [{"op": "test", "path": "/~01", "value": "10"}] | /~01
            """)
    void refusesTheRfcErrorExamples(String example, String document, String patch, String path) {
        var failure = calls.failure("patch", request(document, patch));

        assertThat(failure.reason()).isEqualTo(Reason.FAILED_PRECONDITION);
        assertThat(failure.getMessage()).contains("operation 0").contains("'" + path + "'");
    }

    @Test
    void refusesTheRfcDuplicateOpExampleAsMalformed() {
        // A.13: an operation with two "op" members is not a valid patch document.
        var failure = calls.failure("patch",
                request("{ \"foo\": \"bar\" }", "[{ \"op\": \"add\", \"path\": \"/baz\", \"value\": \"qux\", \"op\": \"remove\" }]"));

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure.getMessage()).contains("Duplicate field 'op'");
    }

    @Test
    void namesTheIndexAndPathOfTheOperationThatFailed() {
        String patch = """
                [{"op": "add", "path": "/a", "value": 1},
                 {"op": "test", "path": "/a", "value": 1},
                 {"op": "test", "path": "/a", "value": 2},
                 {"op": "remove", "path": "/a"}]""";

        var failure = calls.failure("patch", request("{}", patch));

        assertThat(failure.reason()).isEqualTo(Reason.FAILED_PRECONDITION);
        assertThat(failure.getMessage()).contains("patch operation 2 (test at path '/a')");
    }

    @Test
    void removingOrReplacingWhatIsNotThereFails() {
        var remove = calls.failure("patch", request("{\"a\": 1}", "[{\"op\": \"remove\", \"path\": \"/b\"}]"));
        var replace = calls.failure("patch", request("{\"a\": [0]}", "[{\"op\": \"replace\", \"path\": \"/a/1\", \"value\": 2}]"));
        var arrayByName = calls.failure("patch", request("{\"a\": [0]}", "[{\"op\": \"add\", \"path\": \"/a/x\", \"value\": 2}]"));
        var hugeIndex = calls.failure("patch", request("[]", "[{\"op\": \"add\", \"path\": \"/99999999999\", \"value\": 2}]"));

        assertThat(remove.reason()).isEqualTo(Reason.FAILED_PRECONDITION);
        assertThat(remove.getMessage()).contains("operation 0 (remove at path '/b')");
        assertThat(replace.reason()).isEqualTo(Reason.FAILED_PRECONDITION);
        assertThat(arrayByName.reason()).isEqualTo(Reason.FAILED_PRECONDITION);
        assertThat(hugeIndex.reason()).isEqualTo(Reason.FAILED_PRECONDITION);
    }

    @Test
    void malformedOperationsAreInvalidEvenAfterAFailingOne() {
        String patch = "[{\"op\": \"test\", \"path\": \"/a\", \"value\": 2}, {\"op\": \"frob\", \"path\": \"/a\"}]";

        var failure = calls.failure("patch", request("{\"a\": 1}", patch));

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure.getMessage()).contains("operation 1 is malformed").contains("frob");
        assertThat(calls.failure("patch", request("{}", "[{\"op\": \"add\", \"path\": \"a\", \"value\": 1}]")).getMessage())
                .contains("operation 0 is malformed");
        assertThat(calls.failure("patch", request("{}", "[{\"op\": \"add\", \"path\": \"/a\"}]")).getMessage())
                .contains("'value'");
        assertThat(calls.failure("patch", request("{}", "{\"op\": \"add\"}")).getMessage()).contains("must be an array");
        assertThat(calls.failure("patch", "{\"document\": {}}").getMessage()).contains("'patch' is missing");
    }

    @Test
    void replacesTheWholeDocumentAndKeepsNumbersExact() throws Exception {
        String patch = """
                [{"op": "replace", "path": "", "value": {"price": 1.10, "big": 123456789012345678901234567890}},
                 {"op": "test", "path": "/price", "value": 1.10},
                 {"op": "copy", "from": "/price", "path": "/again"}]""";

        assertThat(calls.call("patch", request("[1, 2]", patch)))
                .isEqualTo("{\"price\":1.10,\"big\":123456789012345678901234567890,\"again\":1.10}");
    }

    @Test
    void decodesEscapedPointersOnce() throws Exception {
        String patch = """
                [{"op": "add", "path": "/~0/~01", "value": 1},
                 {"op": "copy", "from": "/~0/~01", "path": "/~0/~1"},
                 {"op": "move", "from": "/~0", "path": "/~00"}]""";

        assertThat(Calls.tree(calls.call("patch", request("{\"~\": {}}", patch))))
                .isEqualTo(Calls.tree("{\"~0\": {\"~1\": 1, \"/\": 1}}"));
        assertThat(calls.failure("patch", request("{}", "[{\"op\": \"add\", \"path\": \"/a~\", \"value\": 1}]")).getMessage())
                .contains("operation 0 is malformed").contains("'~'");
    }

    @Test
    void emptyPatchAnswersTheDocumentUnchanged() throws Exception {
        assertThat(calls.call("patch", request("{\"b\": [true, null], \"a\": \"x\"}", "[]")))
                .isEqualTo("{\"b\":[true,null],\"a\":\"x\"}");
    }
}
