package io.capmesh.extension.api;

import io.grpc.ServerServiceDefinition;
import java.util.List;

/**
 * A capability provider that a runtime loads into a classloader of its own.
 *
 * <p>The runtime creates the entry class named in the extension's manifest with its public no-argument
 * constructor, calls {@link #start} once before any traffic, then {@link #invoke} from many threads at once,
 * and {@link #close} when the extension is unloaded or replaced. An extension must not keep threads, timers or
 * registrations alive after {@code close}: anything left behind keeps its classloader from being collected and
 * is reported as a leak.
 */
public interface Extension extends AutoCloseable {

    /** Initializes and warms up. Runs before the extension is published, so a failure here deploys nothing. */
    default void start(ExtensionContext context) throws Exception {
    }

    /**
     * Answers one call to a method the manifest declares. Throw {@link CapabilityException} for an expected
     * failure (bad input, missing resource); anything else is reported to the caller as an internal error.
     * Must be thread-safe.
     */
    byte[] invoke(Invocation invocation) throws Exception;

    /** Typed gRPC services to mount while this extension is loaded. Built once, after {@link #start}. */
    default List<ServerServiceDefinition> services() {
        return List.of();
    }

    /** Stops whatever {@link #start} began. */
    @Override
    default void close() throws Exception {
    }
}
