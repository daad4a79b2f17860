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

    private static ExtensionStore.StoredExtension stored(String id, byte[] jar) {
        ExtensionManifest manifest = new ExtensionManifest(id, "1.0.0", "a.Entry",
                List.of(new ExtensionManifest.Capability("test." + id, "1.0.0", Set.of("call"))), List.of(), null);
        return new ExtensionStore.StoredExtension(manifest, "sha-" + id, jar, Instant.now(), 0, 0);
    }
}
