package io.capmesh.broker.acquire;

import io.capmesh.broker.registry.RuntimeRegistry;
import java.time.Duration;

/** Asks a runtime to load one of its available (tier-2) packages. */
public interface RuntimeLoader {

    /**
     * Loads the package and waits at most {@code timeout} for the runtime's answer.
     *
     * @throws io.grpc.StatusRuntimeException with the runtime's status when it did not load
     */
    void load(RuntimeRegistry.Runtime runtime, String extensionId, Duration timeout);
}
