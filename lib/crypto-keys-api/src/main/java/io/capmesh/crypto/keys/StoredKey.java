package io.capmesh.crypto.keys;

import java.util.Objects;

/**
 * A key with its material, as the store lends it for one operation. The arrays are copied in and out, so nothing
 * a caller does to them reaches the store, and {@link #toString} never shows them.
 *
 * @param info      what may be said about the key
 * @param secret    the private or secret key; empty for a public key only
 * @param publicKey the public key of an asymmetric pair; empty for a symmetric key
 */
public record StoredKey(KeyInfo info, byte[] secret, byte[] publicKey) {

    public StoredKey {
        Objects.requireNonNull(info, "info");
        secret = secret.clone();
        publicKey = publicKey.clone();
    }

    @Override
    public byte[] secret() {
        return secret.clone();
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof StoredKey that && info.equals(that.info)
                && java.security.MessageDigest.isEqual(secret, that.secret)
                && java.util.Arrays.equals(publicKey, that.publicKey);
    }

    @Override
    public int hashCode() {
        return info.hashCode();
    }

    @Override
    public String toString() {
        return "StoredKey[" + info.id() + ", " + info.algorithm() + ", material withheld]";
    }
}
