package io.capmesh.signing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a jar holds, as a signature sees it: each entry's name and the SHA-256 of its bytes, and the signature
 * entry itself when there is one. Filled entry by entry by whoever reads the jar, so the bytes are read once.
 */
public final class PackageContents {

    private final SortedMap<String, String> digests = new TreeMap<>();
    private final List<String> duplicates = new ArrayList<>();
    private byte[] signature;

    /** A digest for the bytes of one entry. */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** An entry and the digest of its bytes; the signature entry is kept aside, by its bytes. */
    public void add(String name, byte[] sha256) {
        if (digests.put(name, HexFormat.of().formatHex(sha256)) != null) {
            duplicates.add(name);
        }
    }

    public void signature(byte[] json) {
        if (signature != null) {
            duplicates.add(PackageSignature.PATH);
        }
        signature = json.clone();
    }

    /** The signature entry's bytes, or null for an unsigned jar. */
    public byte[] signature() {
        return signature;
    }

    public boolean signed() {
        return signature != null;
    }

    /** Entry names that occur more than once: such a jar reads differently to different tools, so never verifies. */
    public List<String> duplicates() {
        return Collections.unmodifiableList(duplicates);
    }

    public SortedMap<String, String> digests() {
        return Collections.unmodifiableSortedMap(digests);
    }
}
