package io.capmesh.runtime.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.runtime.pkg.ExtensionManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteExtensionStoreTest {

    @TempDir
    Path dir;

    @Test
    void aLargePackageReachesTheDatabaseFileWhileTheStoreStaysOpen() throws Exception {
        Path file = dir.resolve("extensions.db");
        byte[] jar = new byte[6 << 20];
        new Random(7).nextBytes(jar);
        try (SqliteExtensionStore store = new SqliteExtensionStore(file)) {
            store.put(stored("big", jar));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (Files.size(file) < jar.length && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(Files.size(file)).as("database file once the log is copied into it")
                    .isGreaterThanOrEqualTo(jar.length);
            store.put(stored("small", new byte[] {1, 2, 3}));
        }
        try (SqliteExtensionStore reopened = new SqliteExtensionStore(file)) {
            assertThat(reopened.all()).extracting(e -> e.manifest().id()).containsExactly("big", "small");
            assertThat(reopened.all().get(0).jar()).isEqualTo(jar);
        }
    }

    @Test
    void aQuarantineLastsUntilReleasedOrReplacedAndAbnormalEndsUntilCleared() throws Exception {
        Path file = dir.resolve("extensions.db");
        Instant at = Instant.parse("2026-12-07T10:00:00Z");
        try (SqliteExtensionStore store = new SqliteExtensionStore(file)) {
            store.put(stored("looping", new byte[] {1}));
            store.put(stored("fine", new byte[] {2}));
            store.recordAbnormalEnd(new ExtensionStore.AbnormalEnd(at, List.of("looping")));
            store.recordAbnormalEnd(new ExtensionStore.AbnormalEnd(at.plusSeconds(5), List.of("looping", "fine")));
            store.recordAbnormalEnd(new ExtensionStore.AbnormalEnd(at.plusSeconds(9), List.of()));
            store.quarantine("looping", new ExtensionStore.Quarantine("crash loop", at));
        }
        try (SqliteExtensionStore store = new SqliteExtensionStore(file)) {
            assertThat(store.all()).extracting(ExtensionStore.StoredExtension::quarantine)
                    .containsExactly(null, new ExtensionStore.Quarantine("crash loop", at));
            assertThat(store.abnormalEnds()).containsExactly(
                    new ExtensionStore.AbnormalEnd(at.plusSeconds(9), List.of()),
                    new ExtensionStore.AbnormalEnd(at.plusSeconds(5), List.of("looping", "fine")),
                    new ExtensionStore.AbnormalEnd(at, List.of("looping")));
            assertThat(store.release("fine")).as("not quarantined").isFalse();
            assertThat(store.release("looping")).isTrue();
            assertThat(store.all()).extracting(ExtensionStore.StoredExtension::quarantine).containsOnlyNulls();
            store.quarantine("looping", new ExtensionStore.Quarantine("again", at));
            store.put(stored("looping", new byte[] {3})); // a new deploy replaces the quarantined version
            assertThat(store.all()).extracting(ExtensionStore.StoredExtension::quarantine).containsOnlyNulls();
            store.clearAbnormalEnds();
            assertThat(store.abnormalEnds()).isEmpty();
        }
    }

    @Test
    void aStoreWrittenBeforeQuarantinesOpensWithNoneAndKeepsItsExtensions() throws Exception {
        Path file = dir.resolve("old.db");
        try (var connection = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
             var statement = connection.createStatement()) {
            statement.execute("CREATE TABLE extension (id TEXT PRIMARY KEY, version TEXT NOT NULL, sha256 TEXT NOT NULL,"
                    + " manifest BLOB NOT NULL, jar BLOB NOT NULL, deployed_at INTEGER NOT NULL,"
                    + " invocations INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0)");
        }
        try (SqliteExtensionStore store = new SqliteExtensionStore(file)) {
            store.put(stored("kept", new byte[] {1}));
        }
        try (SqliteExtensionStore store = new SqliteExtensionStore(file)) {
            assertThat(store.all()).singleElement().satisfies(e -> {
                assertThat(e.manifest().id()).isEqualTo("kept");
                assertThat(e.quarantine()).isNull();
            });
        }
    }

    private static ExtensionStore.StoredExtension stored(String id, byte[] jar) {
        ExtensionManifest manifest = new ExtensionManifest(id, "1.0.0", "a.Entry",
                List.of(new ExtensionManifest.Capability("test." + id, "1.0.0", Set.of("call"))), List.of(), null);
        return new ExtensionStore.StoredExtension(manifest, "sha-" + id, jar, Instant.now(), 0, 0);
    }
}
