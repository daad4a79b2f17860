package io.capmesh.crypto.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the master key comes from, and the clear refusals when it cannot be had. */
class MasterKeyTest {

    @TempDir
    Path dir;

    @Test
    void takesAConfiguredKeyAndNeverWritesOne() {
        byte[] key = new byte[32];
        key[0] = 42;
        Path store = dir.resolve("keys.store");

        assertThat(MasterKey.resolve(Base64.getEncoder().encodeToString(key) + "\n", store, true)).isEqualTo(key);
        assertThat(dir.resolve(MasterKey.DEVELOPMENT_FILE)).doesNotExist();
    }

    @Test
    void saysWhatIsWrongWithAConfiguredKeyWithoutRepeatingIt() {
        Path store = dir.resolve("keys.store");
        String short16 = Base64.getEncoder().encodeToString("sixteen byte key".getBytes());

        assertThatThrownBy(() -> MasterKey.resolve(short16, store, true))
                .isInstanceOf(KeyStoreUnavailableException.class)
                .hasMessageStartingWith("The master key in capmesh.crypto.master-key (or CAPMESH_CRYPTO_MASTER_KEY) is "
                        + "16 bytes; it must be 32 (an AES-256 key). Set capmesh.crypto.master-key")
                .hasMessageNotContaining(short16);
        assertThatThrownBy(() -> MasterKey.resolve("not base64!", store, true))
                .hasMessageStartingWith("The master key in capmesh.crypto.master-key (or CAPMESH_CRYPTO_MASTER_KEY) is "
                        + "not valid base64.")
                .hasMessageNotContaining("not base64!");
    }

    @Test
    void makesADevelopmentKeyOnceAndReusesIt() throws Exception {
        Path store = dir.resolve("keys.store");
        byte[] first = MasterKey.resolve(null, store, true);
        Files.writeString(store, "written with the first key");

        Path file = dir.resolve(MasterKey.DEVELOPMENT_FILE);
        assertThat(first).hasSize(32);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(MasterKey.resolve("", store, true)).isEqualTo(first);
    }

    @Test
    void refusesWhenNoKeyIsConfiguredAndNoneMayBeMadeOrUsed() throws Exception {
        Path store = dir.resolve("keys.store");
        assertThatThrownBy(() -> MasterKey.resolve(null, store, false))
                .isInstanceOf(KeyStoreUnavailableException.class)
                .hasMessageStartingWith("No master key is configured for the key store " + store
                        + ", and capmesh.crypto.generate-master-key is false. Set capmesh.crypto.master-key or the "
                        + "environment variable CAPMESH_CRYPTO_MASTER_KEY");

        // a store written with a configured key: a new development key could never open it
        Files.writeString(store, "written with some other key");
        assertThatThrownBy(() -> MasterKey.resolve(null, store, true))
                .isInstanceOf(KeyStoreUnavailableException.class)
                .hasMessageStartingWith("The key store " + store + " exists, but no master key is configured and "
                        + "there is no development key (master.key) next to it.");
        assertThat(dir.resolve(MasterKey.DEVELOPMENT_FILE)).doesNotExist();
    }
}
