package io.capmesh.signing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** The public keys a runtime accepts package signatures from, by key id. */
public final class TrustedKeys {

    public static final TrustedKeys NONE = new TrustedKeys(Map.of());

    private final Map<String, PublicKey> byId;

    private TrustedKeys(Map<String, PublicKey> byId) {
        this.byId = Map.copyOf(byId);
    }

    public static TrustedKeys of(Collection<PublicKey> keys) {
        Map<String, PublicKey> byId = new LinkedHashMap<>();
        keys.forEach(key -> {
            SignatureAlgorithm.of(key);
            byId.put(SigningKeys.keyId(key), key);
        });
        return new TrustedKeys(byId);
    }

    /**
     * Reads configured keys. Each value is PEM text with one or more {@code PUBLIC KEY} blocks, the base64 of one
     * DER public key, a PEM file, or a directory whose {@code *.pem} files are read (a mounted ConfigMap).
     *
     * @throws IllegalArgumentException naming the value that is none of these
     */
    public static TrustedKeys read(List<String> values) {
        List<PublicKey> keys = new java.util.ArrayList<>();
        for (String value : values) {
            String trimmed = value.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            try {
                keys.addAll(readOne(trimmed));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("trusted key '" + abbreviate(trimmed) + "': " + e.getMessage(), e);
            }
        }
        return of(keys);
    }

    private static List<PublicKey> readOne(String value) {
        if (value.startsWith("-----BEGIN")) {
            return nonEmpty(SigningKeys.readPublicKeys(value), "PEM text");
        }
        Optional<Path> path = path(value);
        if (path.isPresent() && Files.isDirectory(path.get())) {
            try (Stream<Path> files = Files.list(path.get())) {
                // a mounted ConfigMap also holds ..data links to hidden directories: only the keys' own files count
                return files.filter(file -> file.getFileName().toString().endsWith(".pem"))
                        .filter(file -> !file.getFileName().toString().startsWith("."))
                        .filter(Files::isRegularFile).sorted()
                        .flatMap(file -> readFile(file).stream()).toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + path.get(), e);
            }
        }
        if (path.isPresent() && Files.isRegularFile(path.get())) {
            return readFile(path.get());
        }
        try {
            return List.of(SigningKeys.publicKey(Base64.getMimeDecoder().decode(value)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a file or directory here, nor PEM text, nor a base64 Ed25519 or "
                    + "ECDSA P-256 public key");
        }
    }

    private static List<PublicKey> readFile(Path file) {
        try {
            return nonEmpty(SigningKeys.readPublicKeys(Files.readString(file, StandardCharsets.US_ASCII)),
                    file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static List<PublicKey> nonEmpty(List<PublicKey> keys, String where) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException(where + " holds no PUBLIC KEY block");
        }
        return keys;
    }

    private static Optional<Path> path(String value) {
        try {
            return Optional.of(Path.of(value));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    private static String abbreviate(String value) {
        String line = value.lines().findFirst().orElse("");
        return line.length() > 60 ? line.substring(0, 57) + "..." : line;
    }

    public Optional<PublicKey> find(String keyId) {
        return Optional.ofNullable(byId.get(keyId));
    }

    /** Key ids, for messages. */
    public List<String> ids() {
        return byId.keySet().stream().sorted().toList();
    }

    public boolean isEmpty() {
        return byId.isEmpty();
    }
}
