package io.capmesh.crypto.store;

/**
 * The key store cannot be opened: no usable master key, the wrong one, or a damaged file. The runtime refuses to
 * start rather than serve without its keys. What went wrong and what to do are kept apart for the start-up report;
 * neither ever holds key material.
 */
public final class KeyStoreUnavailableException extends RuntimeException {

    private final String description;
    private final String action;

    KeyStoreUnavailableException(String description, String action) {
        super(description + " " + action, null, false, false);
        this.description = description;
        this.action = action;
    }

    /** What went wrong. */
    public String description() {
        return description;
    }

    /** What the operator should do about it. */
    public String action() {
        return action;
    }
}
