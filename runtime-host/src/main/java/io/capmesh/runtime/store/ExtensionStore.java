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

    /**
     * A deployed extension: its package bytes, what it declares, its call counts, and why it is not restored when
     * it is quarantined (null otherwise).
     */
    record StoredExtension(ExtensionManifest manifest, String sha256, byte[] jar, Instant deployedAt,
                           long invocations, long failures, Quarantine quarantine) {

        public StoredExtension(ExtensionManifest manifest, String sha256, byte[] jar, Instant deployedAt,
                               long invocations, long failures) {
            this(manifest, sha256, jar, deployedAt, invocations, failures, null);
        }
    }

    /** Why and since when a stored extension is kept but not loaded. */
    record Quarantine(String reason, Instant since) {
    }

    /** A run of the runtime that ended without closing: the ids that were loading or had calls in flight. */
    record AbnormalEnd(Instant at, List<String> suspects) {
    }

    /** Makes this the current version of its extension id, replacing any other (and its quarantine). */
    void put(StoredExtension extension);

    /** Keeps the stored id from being restored until it is released or replaced. */
    void quarantine(String id, Quarantine quarantine);

    /** Lets a quarantined id be restored again; answers false when it was not quarantined. */
    boolean release(String id);

    /** Records an abnormal end of the last run, found at the start of this one. */
    void recordAbnormalEnd(AbnormalEnd end);

    /** The abnormal ends recorded since the last clean end, newest first. */
    List<AbnormalEnd> abnormalEnds();

    /** Forgets the abnormal ends: the last run ended cleanly, or an operator released a quarantine. */
    void clearAbnormalEnds();

    void remove(String id);

    List<StoredExtension> all();

    /** Records the call counts of an extension id (totals, not increments). */
    void setCounts(String id, long invocations, long failures);

    @Override
    void close();
}
