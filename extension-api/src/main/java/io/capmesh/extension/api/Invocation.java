package io.capmesh.extension.api;

import java.util.Map;

/**
 * One call to an extension.
 *
 * @param capability the capability name, e.g. {@code core.json}
 * @param method     one of the methods the manifest declares for it
 * @param payload    the request body, in the format the method documents
 * @param attributes request metadata (free-form, may be empty)
 */
public record Invocation(String capability, String method, byte[] payload, Map<String, String> attributes) {

    public Invocation {
        attributes = Map.copyOf(attributes);
    }

    public static Invocation of(String capability, String method, byte[] payload) {
        return new Invocation(capability, method, payload, Map.of());
    }
}
