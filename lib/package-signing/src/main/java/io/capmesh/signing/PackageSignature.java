package io.capmesh.signing;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The detached signature a package carries at {@link #PATH}: the SHA-256 of every other entry, by name, and a
 * signature over the canonical digest of that list. Adding, removing or altering any entry, the manifest
 * included, breaks it; because the list is signed, a verifier can name the entry that changed.
 *
 * @param format    the layout of this file, {@value #FORMAT}
 * @param algorithm {@link SignatureAlgorithm#label()}
 * @param keyId     {@link SigningKeys#keyId} of the key that signed
 * @param entries   every entry but this one, name to hex SHA-256 of its bytes (directories: of no bytes)
 * @param signature base64 of the signature over {@link #canonicalDigest()}
 */
public record PackageSignature(int format, String algorithm, String keyId, SortedMap<String, String> entries,
                               String signature) {

    public static final String PATH = "META-INF/capmesh/signature.json";
    public static final int FORMAT = 1;

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            // a listing that names an entry twice must not verify as either
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    public PackageSignature {
        entries = entries == null ? new TreeMap<>() : new TreeMap<>(entries);
    }

    /** Reads {@code signature.json}; a malformed one is an {@link IllegalArgumentException} saying why. */
    public static PackageSignature parse(byte[] json) {
        PackageSignature parsed;
        try {
            parsed = JSON.readValue(json, PackageSignature.class);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(PATH + " is not valid: " + e.getOriginalMessage());
        }
        if (parsed == null) {
            throw new IllegalArgumentException(PATH + " is empty");
        }
        if (parsed.format() != FORMAT) {
            throw new IllegalArgumentException(PATH + " has format " + parsed.format() + "; this runtime reads format "
                    + FORMAT);
        }
        for (String field : new String[] {"algorithm", "keyId", "signature"}) {
            String value = switch (field) {
                case "algorithm" -> parsed.algorithm();
                case "keyId" -> parsed.keyId();
                default -> parsed.signature();
            };
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(PATH + " has no " + field);
            }
        }
        return parsed;
    }

    public byte[] toJson() {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    }

    /**
     * What is signed: the SHA-256 of the format, algorithm, key id and each entry (sorted by name) written as
     * length-prefixed UTF-8 name and 32-byte digest, so that no two different listings share a digest.
     */
    public byte[] canonicalDigest() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            writeString(out, "capmesh-package-signature");
            out.writeInt(format);
            writeString(out, algorithm);
            writeString(out, keyId);
            out.writeInt(entries.size());
            for (Map.Entry<String, String> entry : entries.entrySet()) {
                writeString(out, entry.getKey());
                out.write(hexDigest(entry.getKey(), entry.getValue()));
            }
            return MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray());
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("in-memory SHA-256 cannot fail", e);
        }
    }

    byte[] signatureBytes() {
        try {
            return Base64.getDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PATH + ": the signature is not base64");
        }
    }

    private static byte[] hexDigest(String entry, String hex) {
        try {
            byte[] digest = HexFormat.of().parseHex(hex == null ? "" : hex);
            if (digest.length == 32) {
                return digest;
            }
        } catch (IllegalArgumentException notHex) {
            // reported below
        }
        throw new IllegalArgumentException(PATH + ": the digest of entry " + entry + " is not a hex SHA-256");
    }

    private static void writeString(DataOutputStream out, String value) throws IOException {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }
}
