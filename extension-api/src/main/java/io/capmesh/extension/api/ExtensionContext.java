package io.capmesh.extension.api;

import java.util.Map;

/** What the runtime tells an extension about itself when it starts. */
public interface ExtensionContext {

    /** The extension id from the manifest. */
    String id();

    /** The version being started (during a swap, two versions of one id are alive at once). */
    String version();

    /** Settings the operator configured for this extension id; empty when there are none. */
    Map<String, String> settings();
}
