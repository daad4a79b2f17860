package io.capmesh.crypto.keys;

import java.time.Instant;
import java.util.Objects;

/**
 * What may be said about a key to anyone: never its material.
 *
 * @param id        the store's name for it, e.g. {@code key-5f2c0a9e41b7d3a86c10}
 * @param algorithm what it is for, as the extension that made it names it
 * @param label     the caller's name for it; may be empty
 * @param created   when it was stored
 * @param hasSecret false for a public key held only to verify with
 */
public record KeyInfo(String id, String algorithm, String label, Instant created, boolean hasSecret) {

    public KeyInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(algorithm, "algorithm");
        label = label == null ? "" : label;
        Objects.requireNonNull(created, "created");
    }
}
