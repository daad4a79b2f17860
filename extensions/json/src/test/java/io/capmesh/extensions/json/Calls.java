package io.capmesh.extensions.json;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Calls a started {@link JsonExtension} the way the runtime does, with text in and text out. */
final class Calls implements AutoCloseable {

    record Context(String id, String version, Map<String, String> settings) implements ExtensionContext {
    }

    /** A plain mapper, independent of the extension's own configuration, to read answers back. */
    static final ObjectMapper PLAIN = new ObjectMapper();

    final JsonExtension extension = new JsonExtension();

    Calls() throws Exception {
        extension.start(new Context("core-json", "1.0.0", Map.of()));
    }

    String call(String method, String payload) throws Exception {
        return new String(bytes(method, payload.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    byte[] bytes(String method, byte[] payload) throws Exception {
        return extension.invoke(Invocation.of("core.json", method, payload));
    }

    CapabilityException failure(String method, String payload) {
        return failure(method, payload.getBytes(StandardCharsets.UTF_8));
    }

    CapabilityException failure(String method, byte[] payload) {
        return catchThrowableOfType(() -> bytes(method, payload), CapabilityException.class);
    }

    static JsonNode tree(String json) throws IOException {
        return PLAIN.readTree(json);
    }

    @Override
    public void close() throws Exception {
        extension.close();
    }
}
