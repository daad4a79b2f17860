package io.capmesh.extensions.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.resource.SchemaLoader;
import io.capmesh.extension.api.CapabilityException;
import java.util.List;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/** JSON Schema validation with networknt's validator: draft 2020-12 unless the schema's {@code $schema} says. */
final class SchemaValidation {

    static final String DEFAULT_DIALECT = "https://json-schema.org/draft/2020-12/schema";

    /**
     * Only the JSON Schema meta-schemas, which the library carries, may be loaded. A {@code $ref} in a caller's
     * schema must never make this process fetch a URL or read one of its own classpath resources.
     */
    private static final SchemaLoader OFFLINE = SchemaLoader.builder()
            .allow(iri -> iri != null && (iri.toString().startsWith("https://json-schema.org/")
                    || iri.toString().startsWith("http://json-schema.org/")))
            .build();

    /** Compiled meta-schemas, kept for the extension's life; a fixed, small set. */
    private final SchemaRegistry metaSchemas = registry();

    /** {@code {"schema": <schema>, "document": <any>}} to {@code {"valid": bool, "errors": [{"path", "message"}]}}. */
    JsonNode validate(JsonNode request) {
        Json.requireMembers(request, "validate", "schema", "document");
        JsonNode schemaNode = request.get("schema");
        if (!schemaNode.isObject() && !schemaNode.isBoolean()) {
            throw CapabilityException.invalidArgument("'schema' must be a JSON Schema: an object or a boolean");
        }
        String dialect = dialectOf(schemaNode);
        List<Error> schemaErrors = metaSchema(dialect).validate(schemaNode);
        if (!schemaErrors.isEmpty()) {
            throw CapabilityException.invalidArgument("'schema' is not a valid schema for " + dialect + ": "
                    + schemaErrors.stream().map(SchemaValidation::describe).collect(Collectors.joining("; ")));
        }
        List<Error> errors;
        try {
            // A registry per call: a caller's $id must not shadow another call's, and nothing a caller sends is kept.
            Schema schema = registry().getSchema(schemaNode);
            errors = schema.validate(request.get("document"));
        } catch (SchemaException | PatternSyntaxException e) {
            throw CapabilityException.invalidArgument("'schema' cannot be used: " + reason(e));
        } catch (StackOverflowError e) {
            // The validator follows references without detecting cycles: {"$ref": "#"} recurses forever.
            throw CapabilityException.invalidArgument("'schema' cannot be used: its references form a cycle that "
                    + "never reaches a keyword, so validation does not end (for example {\"$ref\": \"#\"})");
        }
        ObjectNode result = Json.MAPPER.createObjectNode().put("valid", errors.isEmpty());
        ArrayNode list = result.putArray("errors");
        for (Error error : errors) {
            list.addObject().put("path", error.getInstanceLocation().toString()).put("message", error.getMessage());
        }
        return result;
    }

    private static String dialectOf(JsonNode schema) {
        JsonNode declared = schema.get("$schema");
        if (declared == null) {
            return DEFAULT_DIALECT;
        }
        if (!declared.isTextual()) {
            throw CapabilityException.invalidArgument("'$schema' must be a string naming a JSON Schema dialect");
        }
        return declared.textValue();
    }

    private Schema metaSchema(String dialect) {
        try {
            return metaSchemas.getSchema(SchemaLocation.of(dialect));
        } catch (SchemaException e) {
            throw CapabilityException.invalidArgument("unsupported '$schema' " + dialect
                    + ": use draft 2020-12, 2019-09, 7, 6 or 4 (" + e.getMessage() + ")");
        }
    }

    private static String reason(RuntimeException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof PatternSyntaxException bad) {
                return "the regular expression '" + bad.getPattern() + "' is invalid: " + bad.getDescription();
            }
        }
        return e.getMessage();
    }

    private static String describe(Error error) {
        return error.getInstanceLocation() + ": " + error.getMessage();
    }

    private static SchemaRegistry registry() {
        return SchemaRegistry.withDefaultDialect(
                SpecificationVersion.DRAFT_2020_12, builder -> builder.schemaLoader(OFFLINE));
    }
}
