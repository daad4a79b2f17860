package io.capmesh.extension.api;

import java.util.Map;
import java.util.Optional;

/** What the runtime tells an extension about itself when it starts. */
public interface ExtensionContext {

    /** The extension id from the manifest. */
    String id();

    /** The version being started (during a swap, two versions of one id are alive at once). */
    String version();

    /** Settings the operator configured for this extension id; empty when there are none. */
    Map<String, String> settings();

    /**
     * A service the runtime's host lends to its extensions, such as a named connection pool or a key store: it
     * outlives any one version of the extension, so a swap keeps it warm. Its type must come from the host (the
     * JDK or one of the tier's shared packages), never from the extension's own jar.
     *
     * @param name which one, when the host has several of a type (e.g. datasource names); "" for the only one
     */
    default <T> Optional<T> hostService(Class<T> type, String name) {
        return Optional.empty();
    }
}
