package io.capmesh.extensions.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capmesh.extension.api.CapabilityException.Reason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ValidateTest {

    static Calls calls;

    @BeforeAll
    static void start() throws Exception {
        calls = new Calls();
    }

    @AfterAll
    static void stop() throws Exception {
        calls.close();
    }

    static String request(String schema, String document) {
        return "{\"schema\": " + schema + ", \"document\": " + document + "}";
    }

    @Test
    void answersValidWithNoErrors() throws Exception {
        String schema = """
                {"type": "object", "required": ["id"],
                 "properties": {"id": {"type": "integer", "minimum": 1}, "tags": {"type": "array", "items": {"type": "string"}}}}""";

        assertThat(calls.call("validate", request(schema, "{\"id\": 7, \"tags\": [\"a\"]}")))
                .isEqualTo("{\"valid\":true,\"errors\":[]}");
    }

    @Test
    void listsEveryErrorWithAJsonPointerToTheOffendingValue() throws Exception {
        String schema = """
                {"type": "object", "required": ["id"],
                 "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}}""";

        JsonNode answer = Calls.tree(calls.call("validate", request(schema, "{\"tags\": [\"a\", 2, \"c\", false]}")));

        assertThat(answer.get("valid").booleanValue()).isFalse();
        List<String> paths = new ArrayList<>();
        answer.get("errors").forEach(error -> paths.add(error.get("path").textValue()));
        assertThat(paths).containsExactlyInAnyOrder("", "/tags/1", "/tags/3");
        assertThat(answer.get("errors").toString()).contains("id").contains("string expected");
    }

    @Test
    void usesDraft202012WhenTheSchemaDoesNotSay() {
        // In 2020-12 "items" takes one schema; an array there (the draft-07 tuple form) is not a valid schema.
        var failure = calls.failure("validate", request("{\"items\": [{\"type\": \"integer\"}]}", "[1]"));

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure.getMessage()).contains("draft/2020-12").contains("/items");
    }

    @Test
    void honoursSchemaKeyword() throws Exception {
        String draft7Tuple = "{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"items\": [{\"type\": \"integer\"}]}";

        assertThat(Calls.tree(calls.call("validate", request(draft7Tuple, "[1, \"anything\"]"))).get("valid").booleanValue())
                .isTrue();
        assertThat(Calls.tree(calls.call("validate", request(draft7Tuple, "[\"x\"]"))).get("valid").booleanValue())
                .isFalse();

        // Draft 4's boolean exclusiveMinimum: 5 is not above 5.
        String draft4 = "{\"$schema\": \"http://json-schema.org/draft-04/schema#\", \"minimum\": 5, \"exclusiveMinimum\": true}";
        assertThat(Calls.tree(calls.call("validate", request(draft4, "5"))).get("valid").booleanValue()).isFalse();
        assertThat(Calls.tree(calls.call("validate", request(draft4, "6"))).get("valid").booleanValue()).isTrue();
    }

    @Test
    void acceptsBooleanSchemas() throws Exception {
        assertThat(Calls.tree(calls.call("validate", request("true", "{\"x\": 1}"))).get("valid").booleanValue()).isTrue();
        assertThat(Calls.tree(calls.call("validate", request("false", "1"))).get("valid").booleanValue()).isFalse();
    }

    @Test
    void resolvesReferencesInsideTheSchema() throws Exception {
        String schema = """
                {"$id": "https://schemas.example/list", "$defs": {"name": {"type": "string", "minLength": 2}},
                 "type": "array", "items": {"$ref": "#/$defs/name"}}""";

        JsonNode answer = Calls.tree(calls.call("validate", request(schema, "[\"ok\", \"x\"]")));

        assertThat(answer.get("valid").booleanValue()).isFalse();
        assertThat(answer.at("/errors/0/path").textValue()).isEqualTo("/1");
    }

    @Test
    void keepsNothingBetweenCallsThatShareAnId() throws Exception {
        String strings = "{\"$id\": \"https://schemas.example/same\", \"type\": \"string\"}";
        String integers = "{\"$id\": \"https://schemas.example/same\", \"type\": \"integer\"}";

        assertThat(Calls.tree(calls.call("validate", request(strings, "1"))).get("valid").booleanValue()).isFalse();
        assertThat(Calls.tree(calls.call("validate", request(integers, "1"))).get("valid").booleanValue()).isTrue();
    }

    @Test
    void rejectsAnInvalidSchema() {
        var failure = calls.failure("validate", request("{\"type\": 12}", "1"));

        assertThat(failure.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(failure.getMessage()).contains("not a valid schema").contains("/type");

        var badPattern = calls.failure("validate", request("{\"pattern\": \"(\"}", "\"x\""));
        assertThat(badPattern.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(badPattern.getMessage()).contains("regular expression '('");

        var dangling = calls.failure("validate", request("{\"$ref\": \"#/$defs/missing\"}", "1"));
        assertThat(dangling.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(dangling.getMessage()).contains("/$defs/missing");
    }

    @Test
    void followsRecursiveSchemasToTheDeepestDocumentJacksonAdmits() throws Exception {
        String deepest = "[".repeat(999) + "]".repeat(999);

        assertThat(calls.call("validate", request("{\"items\": {\"$ref\": \"#\"}}", deepest)))
                .isEqualTo("{\"valid\":true,\"errors\":[]}");
    }

    @Test
    void refusesAReferenceCycleInsteadOfRecursingForever() {
        for (String schema : new String[] {"{\"$ref\": \"#\"}", "{\"$defs\": {\"a\": {\"$ref\": \"#/$defs/a\"}}, \"$ref\": \"#/$defs/a\"}"}) {
            var failure = calls.failure("validate", request(schema, "1"));

            assertThat(failure.reason()).as(schema).isEqualTo(Reason.INVALID_ARGUMENT);
            assertThat(failure.getMessage()).contains("cycle");
        }
    }

    @Test
    void neverLoadsSchemasFromOutside() {
        // Neither another host nor this process's own classpath: only the bundled meta-schemas are reachable.
        var remote = calls.failure("validate", request("{\"$ref\": \"https://schemas.example.invalid/x.json\"}", "1"));
        var classpath = calls.failure("validate", request("{\"$ref\": \"classpath:META-INF/capmesh/extension.json\"}", "1"));
        var unknownDialect = calls.failure("validate", request("{\"$schema\": \"https://schemas.example.invalid/meta\"}", "1"));

        assertThat(remote.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(remote.getMessage()).contains("not allowed to be loaded");
        assertThat(classpath.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(classpath.getMessage()).contains("not allowed to be loaded");
        assertThat(unknownDialect.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
        assertThat(unknownDialect.getMessage()).contains("unsupported '$schema'");
        assertThat(calls.failure("validate", request("{\"$schema\": \"#\"}", "1")).getMessage())
                .contains("unsupported '$schema'");
    }

    @Test
    void rejectsRequestsOfTheWrongShape() {
        assertThat(calls.failure("validate", "[]").getMessage()).contains("takes an object");
        assertThat(calls.failure("validate", "{\"schema\": {}}").getMessage()).contains("'document' is missing");
        assertThat(calls.failure("validate", "{\"schema\": {}, \"document\": 1, \"doc\": 2}").getMessage())
                .contains("unexpected member 'doc'");
        assertThat(calls.failure("validate", request("\"string\"", "1")).getMessage()).contains("an object or a boolean");
        assertThat(calls.failure("validate", request("{\"$schema\": 4}", "1")).getMessage()).contains("'$schema'");
        assertThat(calls.failure("validate", "{\"schema\": {}, ").reason()).isEqualTo(Reason.INVALID_ARGUMENT);
    }
}
