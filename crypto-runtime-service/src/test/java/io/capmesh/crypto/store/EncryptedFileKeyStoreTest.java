package io.capmesh.crypto.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.crypto.keys.KeyInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key store file: keys come back after reopening, and nothing in the file gives any of them away. */
class EncryptedFileKeyStoreTest {

    private static final byte[] MASTER = filled(32, 7);
    private static final byte[] SECRET = HexFormat.of().parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static final byte[] PUBLIC = HexFormat.of().parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

    @TempDir
    Path dir;

    @Test
    void keepsKeysAcrossReopeningInTheOrderTheyWereMade() {
        Path file = dir.resolve("keys.store");
        EncryptedFileKeyStore store = EncryptedFileKeyStore.open(file, MASTER);
        KeyInfo signing = store.add("ED25519", "release signing", SECRET, PUBLIC);
        KeyInfo sealing = store.add("AES_GCM", "", filled(32, 1), new byte[0]);
        KeyInfo verifying = store.add("ED25519", "partner", new byte[0], PUBLIC);
        KeyInfo gone = store.add("HMAC_SHA256", "", filled(20, 2), new byte[0]);
        assertThat(store.delete(gone.id())).isTrue();
        assertThat(store.delete(gone.id())).isFalse();

        EncryptedFileKeyStore reopened = EncryptedFileKeyStore.open(file, MASTER);

        assertThat(reopened.list()).containsExactly(signing, sealing, verifying);
        assertThat(reopened.find(signing.id()).orElseThrow().secret()).isEqualTo(SECRET);
        assertThat(reopened.find(signing.id()).orElseThrow().publicKey()).isEqualTo(PUBLIC);
        assertThat(reopened.find(verifying.id()).orElseThrow().info().hasSecret()).isFalse();
        assertThat(reopened.find(gone.id())).isEmpty();
        assertThat(signing.id()).matches("key-[0-9a-f]{20}");
        // what the store lends is a copy, and never shows itself
        reopened.find(signing.id()).orElseThrow().secret()[0] ^= 1;
        assertThat(reopened.find(signing.id()).orElseThrow().secret()).isEqualTo(SECRET);
        assertThat(reopened.find(signing.id()).orElseThrow().toString())
                .isEqualTo("StoredKey[" + signing.id() + ", ED25519, material withheld]");
    }

    @Test
    void theFileShowsNoKeyNoLabelAndNoIdAndOnlyItsOwnerMayReadIt() throws Exception {
        Path file = dir.resolve("keys.store");
        EncryptedFileKeyStore store = EncryptedFileKeyStore.open(file, MASTER);
        KeyInfo info = store.add("ED25519", "release signing", SECRET, PUBLIC);

        byte[] content = Files.readAllBytes(file);
        for (byte[] plain : new byte[][] {SECRET, PUBLIC, MASTER, "release signing".getBytes(StandardCharsets.UTF_8),
                info.id().getBytes(StandardCharsets.UTF_8), "ED25519".getBytes(StandardCharsets.UTF_8)}) {
            assertThat(contains(content, Arrays.copyOf(plain, Math.min(plain.length, 8)))).isFalse();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(file); // no temporary files behind
        }
    }

    @Test
    void refusesAnotherMasterKeyAndAnAlteredFileWithoutGuessing() throws Exception {
        Path file = dir.resolve("keys.store");
        EncryptedFileKeyStore.open(file, MASTER).add("AES_GCM", "", filled(32, 1), new byte[0]);

        assertThatThrownBy(() -> EncryptedFileKeyStore.open(file, filled(32, 8)))
                .isInstanceOf(KeyStoreUnavailableException.class)
                .hasMessageStartingWith("The key store " + file + " does not decrypt with the configured master key");

        byte[] content = Files.readAllBytes(file);
        content[content.length - 20] ^= 1;
        Files.write(file, content);
        assertThatThrownBy(() -> EncryptedFileKeyStore.open(file, MASTER))
                .isInstanceOf(KeyStoreUnavailableException.class)
                .hasMessageContaining("or the file was altered");

        Files.writeString(file, "{\"keys\": []}");
        assertThatThrownBy(() -> EncryptedFileKeyStore.open(file, MASTER))
                .isInstanceOf(KeyStoreUnavailableException.class)
                .hasMessageStartingWith("The file " + file + " is not a capmesh key store (format 1).");
    }

    @Test
    void aFailedWriteChangesNothingAndLeavesNoTemporaryFile() throws Exception {
        Path file = dir.resolve("keys.store");
        EncryptedFileKeyStore store = EncryptedFileKeyStore.open(file, MASTER);
        KeyInfo kept = store.add("AES_GCM", "", filled(16, 1), new byte[0]);
        // a non-empty directory where the file should be: the rename fails, even for root
        Files.delete(file);
        Files.createDirectories(file.resolve("in-the-way"));

        assertThatThrownBy(() -> store.add("AES_GCM", "", filled(16, 2), new byte[0]))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessage("cannot write the key store " + file);
        assertThat(store.list()).containsExactly(kept);
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(file);
        }
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
