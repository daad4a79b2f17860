package io.capmesh.crypto.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Finds the key that encrypts the key store at rest: {@code capmesh.crypto.master-key} (or the environment variable
 * {@code CAPMESH_CRYPTO_MASTER_KEY}), 32 bytes in base64.
 *
 * <p>So that a runtime starts with one command on a laptop, a missing master key is, by default, generated once
 * into {@code master.key} next to the store, with a loud warning on every start: a key beside the data it protects
 * protects nothing at rest, so it is for development only. {@code capmesh.crypto.generate-master-key=false} turns
 * that off, and then a missing key stops the start. A generated key is never made for a store that already exists.
 */
public final class MasterKey {

    /** The development key's file name, next to the key store. */
    public static final String DEVELOPMENT_FILE = "master.key";

    static final int LENGTH = 32;

    private static final System.Logger LOG = System.getLogger(MasterKey.class.getName());
    private static final String HOW = "Set capmesh.crypto.master-key or the environment variable "
            + "CAPMESH_CRYPTO_MASTER_KEY to 32 random bytes in base64 (for example: openssl rand -base64 32), "
            + "and keep it outside the data directory.";

    private MasterKey() {
    }

    /**
     * @param configured the configured key in base64; null or blank when none is
     * @param store      the key store file it is for
     * @param generate   whether a development key may be used (and made) when none is configured
     * @return the 32-byte key
     */
    public static byte[] resolve(String configured, Path store, boolean generate) {
        if (configured != null && !configured.isBlank()) {
            return decode(configured, "capmesh.crypto.master-key (or CAPMESH_CRYPTO_MASTER_KEY)");
        }
        if (!generate) {
            throw new KeyStoreUnavailableException("No master key is configured for the key store " + store
                    + ", and capmesh.crypto.generate-master-key is false.", HOW);
        }
        Path file = store.toAbsolutePath().resolveSibling(DEVELOPMENT_FILE);
        if (Files.exists(file)) {
            warn(file, "using the development master key in");
            try {
                return decode(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the development master key " + file, e);
            }
        }
        if (Files.exists(store)) {
            throw new KeyStoreUnavailableException("The key store " + store + " exists, but no master key is "
                    + "configured and there is no development key (" + DEVELOPMENT_FILE + ") next to it.",
                    "Configure the master key the store was written with: " + HOW);
        }
        byte[] key = new byte[LENGTH];
        new SecureRandom().nextBytes(key);
        write(file, Base64.getEncoder().encodeToString(key) + "\n");
        warn(file, "generated a development master key in");
        return key;
    }

    private static byte[] decode(String base64, String source) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new KeyStoreUnavailableException("The master key in " + source + " is not valid base64.", HOW);
        }
        if (key.length != LENGTH) {
            throw new KeyStoreUnavailableException("The master key in " + source + " is " + key.length
                    + " bytes; it must be " + LENGTH + " (an AES-256 key).", HOW);
        }
        return key;
    }

    private static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, content, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the development master key " + file, e);
        }
    }

    private static void warn(Path file, String what) {
        LOG.log(System.Logger.Level.WARNING, "\n"
                + "********************************************************************************************\n"
                + "  No master key is configured: " + what + " " + file + ".\n"
                + "  The key store is encrypted with a key that sits next to it, which protects nothing at rest.\n"
                + "  For development only. " + HOW + "\n"
                + "  capmesh.crypto.generate-master-key=false makes a missing master key stop the start instead.\n"
                + "********************************************************************************************");
    }
}
