package io.capmesh.telemetry;

import io.opentelemetry.api.common.AttributeKey;

/** The span attributes capmesh adds, named as {@code capmesh.*} so a trace view can pick them out. */
public final class CapmeshAttributes {

    public static final AttributeKey<String> CAPABILITY = AttributeKey.stringKey("capmesh.capability");
    public static final AttributeKey<String> METHOD = AttributeKey.stringKey("capmesh.method");
    public static final AttributeKey<String> VERSION = AttributeKey.stringKey("capmesh.version");
    public static final AttributeKey<String> EXTENSION = AttributeKey.stringKey("capmesh.extension");
    public static final AttributeKey<String> REPLICA = AttributeKey.stringKey("capmesh.replica");
    public static final AttributeKey<String> ACCOUNT = AttributeKey.stringKey("capmesh.account");
    public static final AttributeKey<String> LEASE = AttributeKey.stringKey("capmesh.lease");
    public static final AttributeKey<String> RESULT = AttributeKey.stringKey("capmesh.result");

    private CapmeshAttributes() {
    }
}
