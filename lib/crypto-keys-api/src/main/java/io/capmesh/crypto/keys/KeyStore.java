package io.capmesh.crypto.keys;

import java.util.List;
import java.util.Optional;

/**
 * The crypto runtime's keys, lent to its extensions through {@code ExtensionContext.hostService(KeyStore.class, "")}.
 *
 * <p>The store lives in the host, not in an extension, so keys outlive every swap of the code that uses them and
 * key material never has to cross the wire: callers name a key by its id. The store knows nothing about
 * algorithms beyond a name; what the material means is up to the extension, so new key types need no host change.
 * Implementations are thread-safe and persist a change before they return.
 */
public interface KeyStore {

    /**
     * Stores new key material under a fresh id.
     *
     * @param algorithm what the material is for, e.g. {@code ED25519}, as the extension names it
     * @param label     a caller's name for the key; may be empty
     * @param secret    the private or secret key; empty for a public key kept only to verify with
     * @param publicKey the public key of an asymmetric pair; empty for a symmetric key
     * @throws java.io.UncheckedIOException when the change could not be persisted (then nothing was stored)
     */
    KeyInfo add(String algorithm, String label, byte[] secret, byte[] publicKey);

    /** The key with this id, material included: for use inside the runtime only, never to be sent anywhere. */
    Optional<StoredKey> find(String id);

    /** Every key, without material, oldest first. */
    List<KeyInfo> list();

    /**
     * Forgets a key for good.
     *
     * @return whether there was such a key
     * @throws java.io.UncheckedIOException when the change could not be persisted (then the key is still there)
     */
    boolean delete(String id);
}
