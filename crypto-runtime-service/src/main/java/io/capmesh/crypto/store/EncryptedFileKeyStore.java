package io.capmesh.crypto.store;

import io.capmesh.crypto.keys.KeyInfo;
import io.capmesh.crypto.keys.KeyStore;
import io.capmesh.crypto.keys.StoredKey;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The crypto runtime's keys in one file, encrypted at rest with AES-256-GCM under the master key (see
 * {@link MasterKey}), which is never stored in it.
 *
 * <p>The file is a 5-byte header ({@code CMKS} and format version 1), a fresh 12-byte random nonce, then every key
 * sealed in one piece, the header authenticated with it: a wrong master key, a flipped bit or a key list spliced from
 * another file all fail to open rather than yield keys. Each change rewrites the file (small: about 100 bytes a key)
 * to a temporary file, forces it to disk and renames it over the old one, so a crash leaves the old store or the
 * new one, never a torn one. Reads take no lock: they see an immutable snapshot that a write replaces.
 */
public final class EncryptedFileKeyStore implements KeyStore {

    private static final byte[] HEADER = {'C', 'M', 'K', 'S', 1};
    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    private static final FileAttribute<?>[] OWNER_ONLY = FileSystems.getDefault().supportedFileAttributeViews()
            .contains("posix")
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
            : new FileAttribute<?>[0];

    private final Path file;
    private final SecretKeySpec masterKey;
    private final SecureRandom random = new SecureRandom();
    private final Clock clock;
    private volatile Map<String, StoredKey> keys;

    private EncryptedFileKeyStore(Path file, byte[] masterKey, Clock clock, Map<String, StoredKey> keys) {
        this.file = file;
        this.masterKey = new SecretKeySpec(masterKey, "AES");
        this.clock = clock;
        this.keys = keys;
    }

    /**
     * Opens the store, or creates an empty one (written at once, so the next start already checks its master key).
     *
     * @throws KeyStoreUnavailableException when the file does not open with this master key or is not a key store
     */
    public static EncryptedFileKeyStore open(Path file, byte[] masterKey) {
        return open(file, masterKey, Clock.systemUTC());
    }

    static EncryptedFileKeyStore open(Path file, byte[] masterKey, Clock clock) {
        if (masterKey.length != MasterKey.LENGTH) {
            throw new IllegalArgumentException("the master key must be " + MasterKey.LENGTH + " bytes");
        }
        if (!Files.exists(file)) {
            EncryptedFileKeyStore store = new EncryptedFileKeyStore(file, masterKey, clock, Map.of());
            store.write(Map.of());
            return store;
        }
        try {
            EncryptedFileKeyStore store = new EncryptedFileKeyStore(file, masterKey, clock, Map.of());
            store.keys = store.read(Files.readAllBytes(file));
            return store;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the key store " + file, e);
        }
    }

    /** Where the store lives. */
    public Path file() {
        return file;
    }

    @Override
    public synchronized KeyInfo add(String algorithm, String label, byte[] secret, byte[] publicKey) {
        String id;
        do {
            byte[] bytes = new byte[10];
            random.nextBytes(bytes);
            id = "key-" + HexFormat.of().formatHex(bytes);
        } while (keys.containsKey(id));
        KeyInfo info = new KeyInfo(id, algorithm, label, Instant.ofEpochMilli(clock.millis()), secret.length > 0);
        Map<String, StoredKey> next = new LinkedHashMap<>(keys);
        next.put(id, new StoredKey(info, secret, publicKey));
        write(next);
        keys = next;
        return info;
    }

    @Override
    public Optional<StoredKey> find(String id) {
        return Optional.ofNullable(keys.get(id));
    }

    @Override
    public List<KeyInfo> list() {
        return keys.values().stream().map(StoredKey::info).toList();
    }

    @Override
    public synchronized boolean delete(String id) {
        if (!keys.containsKey(id)) {
            return false;
        }
        Map<String, StoredKey> next = new LinkedHashMap<>(keys);
        next.remove(id);
        write(next);
        keys = next;
        return true;
    }

    private Map<String, StoredKey> read(byte[] content) {
        if (content.length < HEADER.length + NONCE + TAG_BITS / 8
                || !Arrays.equals(content, 0, HEADER.length, HEADER, 0, HEADER.length)) {
            throw new KeyStoreUnavailableException("The file " + file + " is not a capmesh key store (format 1).",
                    "Restore the key store from a backup, or move it away to start with an empty one.");
        }
        byte[] plain;
        try {
            Cipher cipher = cipher(Cipher.DECRYPT_MODE, Arrays.copyOfRange(content, HEADER.length,
                    HEADER.length + NONCE));
            plain = cipher.doFinal(content, HEADER.length + NONCE, content.length - HEADER.length - NONCE);
        } catch (AEADBadTagException e) {
            throw new KeyStoreUnavailableException("The key store " + file + " does not decrypt with the configured "
                    + "master key: the key is not the one the store was written with, or the file was altered.",
                    "Start with the master key the store was written with (capmesh.crypto.master-key or "
                            + "CAPMESH_CRYPTO_MASTER_KEY), or restore the file from a backup.");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(plain))) {
            int count = in.readInt();
            Map<String, StoredKey> read = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                KeyInfo info = new KeyInfo(in.readUTF(), in.readUTF(), in.readUTF(), Instant.ofEpochMilli(in.readLong()),
                        in.readBoolean());
                read.put(info.id(), new StoredKey(info, bytes(in), bytes(in)));
            }
            return read;
        } catch (IOException e) {
            // authenticated, so written by a broken writer rather than altered
            throw new KeyStoreUnavailableException("The key store " + file + " decrypts but cannot be read.",
                    "Restore the key store from a backup.");
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    private void write(Map<String, StoredKey> content) {
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(plain)) {
            out.writeInt(content.size());
            for (StoredKey key : content.values()) {
                KeyInfo info = key.info();
                out.writeUTF(info.id());
                out.writeUTF(info.algorithm());
                out.writeUTF(info.label());
                out.writeLong(info.created().toEpochMilli());
                out.writeBoolean(info.hasSecret());
                writeBytes(out, key.secret());
                writeBytes(out, key.publicKey());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        byte[] bytes = plain.toByteArray();
        byte[] nonce = new byte[NONCE];
        random.nextBytes(nonce);
        byte[] sealed;
        try {
            sealed = cipher(Cipher.ENCRYPT_MODE, nonce).doFinal(bytes);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
        replace(ByteBuffer.allocate(HEADER.length + NONCE + sealed.length).put(HEADER).put(nonce).put(sealed).flip());
    }

    private void replace(ByteBuffer content) {
        Path temporary = null;
        try {
            Path directory = file.toAbsolutePath().getParent();
            Files.createDirectories(directory);
            temporary = Files.createTempFile(directory, file.getFileName() + ".", ".tmp", OWNER_ONLY);
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                while (content.hasRemaining()) {
                    channel.write(content);
                }
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                if (temporary != null) {
                    Files.deleteIfExists(temporary);
                }
            } catch (IOException ignored) {
                // the write already failed; that is the error to report
            }
            throw new UncheckedIOException("cannot write the key store " + file, e);
        }
    }

    private Cipher cipher(int mode, byte[] nonce) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, masterKey, new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD(HEADER);
        return cipher;
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] bytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > in.available()) {
            throw new IOException("bad length " + length);
        }
        return in.readNBytes(length);
    }
}
