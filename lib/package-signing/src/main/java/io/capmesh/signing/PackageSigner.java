package io.capmesh.signing;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** Signs an extension jar: the same entries, in the same order, and a fresh {@link PackageSignature#PATH} last. */
public final class PackageSigner {

    private PackageSigner() {
    }

    /**
     * @return the signed jar; an existing signature is replaced
     * @throws IllegalArgumentException when the bytes are not a jar, or name an entry twice
     */
    public static byte[] sign(byte[] jar, KeyPair key) throws IOException {
        SignatureAlgorithm algorithm = SignatureAlgorithm.of(key.getPublic());
        return sign(jar, key.getPublic(), digest -> sign(algorithm, key, digest));
    }

    /**
     * Signs with a key held elsewhere, such as in a crypto runtime, which never hands out its private keys.
     *
     * @param publicKey the signing key's public half, which names it in the signature
     * @param signer    signs the canonical digest it is given with the key's algorithm (Ed25519, or ECDSA P-256
     *                  with SHA-256 as {@code r || s})
     * @return the signed jar; an existing signature is replaced
     * @throws IllegalArgumentException when the bytes are not a jar, or name an entry twice
     */
    public static byte[] sign(byte[] jar, PublicKey publicKey, UnaryOperator<byte[]> signer) throws IOException {
        SignatureAlgorithm algorithm = SignatureAlgorithm.of(publicKey);
        record Entry(ZipEntry header, byte[] content) {
        }
        List<Entry> entries = new ArrayList<>();
        PackageContents contents = new PackageContents();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar))) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                byte[] content = in.readAllBytes();
                if (entry.getName().equals(PackageSignature.PATH)) {
                    continue;
                }
                contents.add(entry.getName(), PackageContents.newDigest().digest(content));
                entries.add(new Entry(entry, content));
            }
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("not a jar, or an empty one");
        }
        if (!contents.duplicates().isEmpty()) {
            throw new IllegalArgumentException("the jar names " + contents.duplicates() + " more than once; "
                    + "rebuild it so that every entry is unique");
        }
        PackageSignature unsigned = new PackageSignature(PackageSignature.FORMAT, algorithm.label(),
                SigningKeys.keyId(publicKey), contents.digests(), "");
        PackageSignature signed = new PackageSignature(unsigned.format(), unsigned.algorithm(), unsigned.keyId(),
                unsigned.entries(), Base64.getEncoder().encodeToString(signer.apply(unsigned.canonicalDigest())));

        ByteArrayOutputStream out = new ByteArrayOutputStream(jar.length + 4096);
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Entry entry : entries) {
                ZipEntry copy = new ZipEntry(entry.header().getName());
                if (entry.header().getTime() != -1) {
                    copy.setTime(entry.header().getTime());
                }
                zip.putNextEntry(copy);
                zip.write(entry.content());
                zip.closeEntry();
            }
            zip.putNextEntry(new ZipEntry(PackageSignature.PATH));
            zip.write(signed.toJson());
            zip.closeEntry();
        }
        return out.toByteArray();
    }

    private static byte[] sign(SignatureAlgorithm algorithm, KeyPair key, byte[] digest) {
        try {
            Signature signer = algorithm.newSignature();
            signer.initSign(key.getPrivate());
            signer.update(digest);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot sign with this " + algorithm + " key: " + e.getMessage(), e);
        }
    }
}
