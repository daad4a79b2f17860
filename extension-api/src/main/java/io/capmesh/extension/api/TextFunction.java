package io.capmesh.extension.api;

import java.nio.charset.StandardCharsets;

/**
 * The shortest extension to write: a function from UTF-8 text to UTF-8 text.
 * <pre>
 * public class Greeter extends TextFunction {
 *     protected String apply(String name) {
 *         return "hello, " + name;
 *     }
 * }
 * </pre>
 * It answers every method its manifest declares with {@link #apply}. For bytes, several methods, settings or typed
 * gRPC services, implement {@link Extension} itself.
 */
public abstract class TextFunction implements Extension {

    /**
     * Answers one call. Throw {@link CapabilityException} for a failure the caller should act on. Must be
     * thread-safe.
     *
     * @param input the call's payload, as text
     * @return the answer; null answers nothing
     */
    protected abstract String apply(String input) throws Exception;

    @Override
    public final byte[] invoke(Invocation invocation) throws Exception {
        String answer = apply(new String(invocation.payload(), StandardCharsets.UTF_8));
        return answer == null ? new byte[0] : answer.getBytes(StandardCharsets.UTF_8);
    }
}
