package io.capmesh.extensions.crypto;

import io.capmesh.crypto.keys.KeyInfo;
import io.capmesh.crypto.keys.KeyStore;
import io.capmesh.crypto.keys.StoredKey;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The host's key store as the extension sees it, kept in memory; can be told to fail writes like a full disk. */
final class MemoryKeyStore implements KeyStore {

    private final Map<String, StoredKey> keys = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();
    volatile boolean failWrites;
    volatile RuntimeException failReads;

    @Override
    public KeyInfo add(String algorithm, String label, byte[] secret, byte[] publicKey) {
        checkWritable();
        KeyInfo info = new KeyInfo("key-" + next.incrementAndGet(), algorithm, label, Instant.now(),
                secret.length > 0);
        keys.put(info.id(), new StoredKey(info, secret, publicKey));
        return info;
    }

    @Override
    public Optional<StoredKey> find(String id) {
        if (failReads != null) {
            throw failReads;
        }
        return Optional.ofNullable(keys.get(id));
    }

    @Override
    public List<KeyInfo> list() {
        List<KeyInfo> all = new ArrayList<>(keys.values().stream().map(StoredKey::info).toList());
        all.sort(java.util.Comparator.comparing(KeyInfo::created).thenComparing(KeyInfo::id));
        return all;
    }

    @Override
    public boolean delete(String id) {
        checkWritable();
        return keys.remove(id) != null;
    }

    private void checkWritable() {
        if (failWrites) {
            throw new UncheckedIOException(new java.io.IOException("No space left on device"));
        }
    }
}
