package io.capmesh.extensions.crypto;

import io.capmesh.crypto.keys.KeyStore;
import io.capmesh.crypto.keys.StoredKey;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.crypto.v1.KeyType;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/** Finds keys in the host's store by id and checks they fit an operation before any of their material is used. */
final class KeyRing {

    /** A key ready for use: its type known and checked, its material copied out of the store. */
    record Key(String id, KeyType type, byte[] secret, byte[] publicKey) {
        boolean publicOnly() {
            return secret.length == 0;
        }

        @Override
        public String toString() {
            return "Key[" + id + ", " + type + "]";
        }
    }

    private static final Set<KeyType> KNOWN =
            EnumSet.complementOf(EnumSet.of(KeyType.KEY_TYPE_UNSPECIFIED, KeyType.UNRECOGNIZED));

    /** Enough for every signing key a runtime uses at once; past it the cache starts afresh. */
    static final int MAX_PREPARED = 256;

    private final KeyStore store;
    /**
     * Ed25519 signing keys ready for use, by key id. BouncyCastle derives the public key (a scalar multiplication,
     * as dear as the signature itself) the first time a private key object signs, and keeps it in that object, so
     * a fresh object per call would pay for it on every signature.
     */
    private final Map<String, Prepared> prepared = new ConcurrentHashMap<>();

    private record Prepared(byte[] publicKey, Ed25519PrivateKeyParameters key) {
    }

    KeyRing(KeyStore store) {
        this.store = store;
    }

    KeyStore store() {
        return store;
    }

    /**
     * The key named {@code keyId}, which must be of one of the {@code accepted} types.
     *
     * @param use what the key is wanted for, for messages: e.g. {@code crypto.aead}
     */
    Key require(String keyId, String use, KeyType... accepted) {
        if (keyId.isBlank()) {
            throw CapabilityException.invalidArgument("key_id is required");
        }
        StoredKey stored = store.find(keyId).orElseThrow(() -> CapabilityException.notFound(
                "no key " + quoted(keyId) + " in this runtime's key store"));
        KeyType type = typeOf(stored.info().id(), stored.info().algorithm());
        if (!Arrays.asList(accepted).contains(type)) {
            throw CapabilityException.invalidArgument("key " + quoted(keyId) + " is " + named(type) + " key; "
                    + use + " takes " + Arrays.stream(accepted).map(KeyType::name)
                    .collect(Collectors.joining(" or ")) + " keys");
        }
        return new Key(stored.info().id(), type, stored.secret(), stored.publicKey());
    }

    /** The Ed25519 signing key of {@code key} (its secret must be present), prepared once per key. */
    Ed25519PrivateKeyParameters ed25519(Key key) {
        Prepared ready = prepared.get(key.id());
        // checked against the stored public key too: other material under a known id is prepared afresh
        if (ready == null || !Arrays.equals(ready.publicKey(), key.publicKey())) {
            Ed25519PrivateKeyParameters parameters = new Ed25519PrivateKeyParameters(key.secret());
            ready = new Prepared(parameters.generatePublicKey().getEncoded(), parameters);
            if (prepared.size() >= MAX_PREPARED) {
                prepared.clear();
            }
            prepared.put(key.id(), ready);
        }
        return ready.key();
    }

    /** Drops what was prepared for a key, when it leaves the store. */
    void forget(String keyId) {
        prepared.remove(keyId);
    }

    /** How many keys are prepared (for tests). */
    int preparedCount() {
        return prepared.size();
    }

    /** The type a stored key was made as; a type this version does not know is the operator's to sort out. */
    static KeyType typeOf(String keyId, String algorithm) {
        try {
            KeyType type = KeyType.valueOf(algorithm);
            if (KNOWN.contains(type)) {
                return type;
            }
        } catch (IllegalArgumentException unknown) {
            // reported below
        }
        throw new CapabilityException(CapabilityException.Reason.FAILED_PRECONDITION, "key " + quoted(keyId)
                + " is of type " + algorithm + ", which this version of the crypto extension does not know");
    }

    /** A caller's key id for a message: quoted, and cut short if it is long. */
    static String quoted(String keyId) {
        return "'" + (keyId.length() > 64 ? keyId.substring(0, 64) + "..." : keyId) + "'";
    }

    /** The type's name with its article, for messages: "an AES_GCM", "a CHACHA20_POLY1305". */
    static String named(KeyType type) {
        return (type.name().matches("^([AEIO]|HMAC).*") ? "an " : "a ") + type.name();
    }
}
