package io.capmesh.runtime.store;

import io.capmesh.runtime.pkg.ExtensionManifest;
import java.time.Instant;
import java.util.List;

/**
 * Where a runtime keeps what it has deployed, so a restarted runtime restores it. One row per extension id:
 * the version that is current. A write returns only once it is durable, because a deploy is acknowledged
 * only after it.
 */
public interface ExtensionStore extends AutoCloseable {

    /** A deployed extension: its package bytes, what it declares, and its call counts. */
    record StoredExtension(ExtensionManifest manifest, String sha256, byte[] jar, Instant deployedAt,
                           long invocations, long failures) {
    }

    /** Makes this the current version of its extension id, replacing any other. */
    void put(StoredExtension extension);

    void remove(String id);

    List<StoredExtension> all();

    /** Records the call counts of an extension id (totals, not increments). */
    void setCounts(String id, long invocations, long failures);

    @Override
    void close();
}
