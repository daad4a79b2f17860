package io.capmesh.extensions.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.crypto.keys.KeyInfo;
import io.capmesh.crypto.keys.KeyStore;
import io.capmesh.crypto.keys.StoredKey;
import io.capmesh.extensions.crypto.v1.DeleteKeyRequest;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.SignRequest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.junit.jupiter.api.Test;

/** The Ed25519 signing keys the ring prepares once per key, and when it prepares them again. */
class KeyRingTest {

    @Test
    void preparesASigningKeyOncePerKey() {
        MemoryKeyStore store = new MemoryKeyStore();
        KeyRing ring = new KeyRing(store);
        KeyMaterial.Pair pair = KeyMaterial.generate(KeyType.ED25519, 0, new SecureRandom());
        String id = store.add(KeyType.ED25519.name(), "test", pair.secret(), pair.publicKey()).id();

        Ed25519PrivateKeyParameters first = ring.ed25519(ring.require(id, "crypto.sign", KeyType.ED25519));
        Ed25519PrivateKeyParameters second = ring.ed25519(ring.require(id, "crypto.sign", KeyType.ED25519));

        assertThat(second).isSameAs(first);
        assertThat(first.getEncoded()).isEqualTo(pair.secret());
        assertThat(ring.preparedCount()).isEqualTo(1);
        ring.forget(id);
        assertThat(ring.preparedCount()).isZero();
    }

    @Test
    void otherMaterialUnderAKnownIdIsPreparedAgain() {
        SwappableStore store = new SwappableStore();
        KeyRing ring = new KeyRing(store);
        KeyMaterial.Pair one = KeyMaterial.generate(KeyType.ED25519, 0, new SecureRandom());
        KeyMaterial.Pair two = KeyMaterial.generate(KeyType.ED25519, 0, new SecureRandom());

        store.key = key(one);
        Ed25519PrivateKeyParameters first = ring.ed25519(ring.require("k", "crypto.sign", KeyType.ED25519));
        store.key = key(two);
        Ed25519PrivateKeyParameters second = ring.ed25519(ring.require("k", "crypto.sign", KeyType.ED25519));

        assertThat(first.getEncoded()).isEqualTo(one.secret());
        assertThat(second.getEncoded()).isEqualTo(two.secret());
    }

    @Test
    void deletingAKeyForgetsItsPreparedKey() {
        KeyRing ring = new KeyRing(new MemoryKeyStore());
        KeyManagement management = new KeyManagement(ring, new SecureRandom());
        String id = management.generate(GenerateKeyRequest.newBuilder().setType(KeyType.ED25519).setLabel("gone")
                .build()).getKeyId();
        new Signatures(ring).sign(SignRequest.newBuilder().setKeyId(id).setMessage(ByteString.copyFromUtf8("m"))
                .build());
        assertThat(ring.preparedCount()).isEqualTo(1);

        management.delete(DeleteKeyRequest.newBuilder().setKeyId(id).build());

        assertThat(ring.preparedCount()).isZero();
    }

    private static StoredKey key(KeyMaterial.Pair pair) {
        return new StoredKey(new KeyInfo("k", KeyType.ED25519.name(), "test", Instant.EPOCH, true), pair.secret(),
                pair.publicKey());
    }

    /** A store whose one key can be replaced under the same id. */
    private static final class SwappableStore implements KeyStore {
        volatile StoredKey key;

        @Override
        public KeyInfo add(String algorithm, String label, byte[] secret, byte[] publicKey) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<StoredKey> find(String id) {
            return Optional.ofNullable(key).filter(k -> k.info().id().equals(id));
        }

        @Override
        public List<KeyInfo> list() {
            return key == null ? List.of() : List.of(key.info());
        }

        @Override
        public boolean delete(String id) {
            throw new UnsupportedOperationException();
        }
    }
}
