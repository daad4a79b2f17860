package io.capmesh.extensions.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capmesh.extension.api.CapabilityException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Set;

/** Strict JSON reading and compact writing, shared by every method. */
final class Json {

    /**
     * Strict RFC 8259: duplicate names and trailing content are errors, and decimals are kept exactly
     * ({@code 1.10} stays {@code 1.10}, {@code 1e400} does not become infinity) until a method decides otherwise.
     */
    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();

    private Json() {
    }

    /** Parses one JSON value (UTF-8). */
    static JsonNode read(byte[] payload) {
        try {
            JsonNode node = MAPPER.readTree(payload);
            if (node == null || node.isMissingNode()) {
                throw CapabilityException.invalidArgument("the payload is empty: expected a JSON value");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Re-emits the one JSON value in {@code payload} without insignificant whitespace. Streams token by token,
     * keeping member order and each number's original text.
     */
    static byte[] minify(byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length);
        try (JsonParser in = MAPPER.createParser(payload); JsonGenerator gen = MAPPER.createGenerator(out)) {
            if (in.nextToken() == null) {
                throw CapabilityException.invalidArgument("the payload is empty: expected a JSON value");
            }
            int depth = 0;
            do {
                JsonToken token = in.currentToken();
                if (token.isNumeric()) {
                    gen.writeNumber(in.getText());
                } else {
                    gen.copyCurrentEvent(in);
                }
                depth += token.isStructStart() ? 1 : token.isStructEnd() ? -1 : 0;
            } while (depth > 0 && in.nextToken() != null);
            if (in.nextToken() != null) {
                throw malformed(in.currentTokenLocation(), "unexpected content after the JSON value");
            }
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] write(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON tree", e);
        }
    }

    /** Checks that a request is an object with exactly the named members. */
    static void requireMembers(JsonNode request, String method, String... names) {
        String expected = "{\"" + String.join("\": ..., \"", names) + "\": ...}";
        if (!request.isObject()) {
            throw CapabilityException.invalidArgument(method + " takes an object " + expected);
        }
        for (String name : names) {
            if (!request.has(name)) {
                throw CapabilityException.invalidArgument(
                        method + " takes an object " + expected + "; '" + name + "' is missing");
            }
        }
        for (Iterator<String> it = request.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!Set.of(names).contains(name)) {
                throw CapabilityException.invalidArgument(
                        method + " takes an object " + expected + "; unexpected member '" + name + "'");
            }
        }
    }

    private static CapabilityException malformed(JsonProcessingException e) {
        // Jackson names nested locations as "[Source: REDACTED (...); line: 1, column: 1]"; keep just the place.
        String what = e.getOriginalMessage()
                .replaceAll("\\[Source: [^;]*; line: (\\d+), column: (\\d+)]", "line $1, column $2");
        return malformed(e.getLocation(), what);
    }

    private static CapabilityException malformed(JsonLocation at, String what) {
        String where = at == null || at.getLineNr() < 1
                ? ""
                : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        return CapabilityException.invalidArgument("malformed JSON" + where + ": " + what);
    }
}
