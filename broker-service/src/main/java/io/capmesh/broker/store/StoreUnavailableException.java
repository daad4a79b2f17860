package io.capmesh.broker.store;

/** The broker's store could not be reached or used: a condition to retry (UNAVAILABLE), not a bug. */
public final class StoreUnavailableException extends IllegalStateException {

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
