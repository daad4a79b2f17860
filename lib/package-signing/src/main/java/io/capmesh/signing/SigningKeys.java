package io.capmesh.signing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Signing keys as PEM: private keys in PKCS#8 ({@code PRIVATE KEY}), public keys as SubjectPublicKeyInfo
 * ({@code PUBLIC KEY}), the forms {@code openssl} reads and writes. A key pair file holds both blocks, since the
 * JDK cannot derive an Ed25519 public key from its private key.
 */
public final class SigningKeys {

    private static final Pattern PEM_BLOCK =
            Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

    private SigningKeys() {
    }

    public static KeyPair generate(SignatureAlgorithm algorithm) {
        try {
            return algorithm.newKeyPairGenerator().generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK 17 generates " + algorithm + " keys", e);
        }
    }

    /**
     * How a signature names its key, and how a runtime finds it among its trusted keys: the first 16 bytes of the
     * SHA-256 of the public key's DER encoding, in hex.
     */
    public static String keyId(PublicKey key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** A key pair file: the private key, then the public key. */
    public static String toPem(KeyPair pair) {
        return pem("PRIVATE KEY", pair.getPrivate().getEncoded()) + pem("PUBLIC KEY", pair.getPublic().getEncoded());
    }

    public static String toPem(PublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }

    /**
     * Reads a key pair file: one {@code PRIVATE KEY} and one {@code PUBLIC KEY} block, of the same pair.
     *
     * @throws IllegalArgumentException saying which block is missing or malformed
     */
    public static KeyPair readKeyPair(String pem) {
        byte[] privateDer = null;
        byte[] publicDer = null;
        for (Block block : blocks(pem)) {
            switch (block.type()) {
                case "PRIVATE KEY" -> privateDer = block.der();
                case "PUBLIC KEY" -> publicDer = block.der();
                case "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException("the key is in "
                        + block.type() + " form; give an unencrypted PKCS#8 key (openssl pkcs8 -topk8 -nocrypt) "
                        + "followed by its PUBLIC KEY block, or make one with capmesh keygen");
                default -> {
                    // certificates and other blocks are not ours to read
                }
            }
        }
        if (privateDer == null) {
            throw new IllegalArgumentException("no PRIVATE KEY block; a signing key file holds the private key and "
                    + "its public key (capmesh keygen writes one)");
        }
        if (publicDer == null) {
            throw new IllegalArgumentException("no PUBLIC KEY block after the private key; append the public key "
                    + "(openssl pkey -pubout) or make a key pair with capmesh keygen");
        }
        PublicKey publicKey = publicKey(publicDer);
        PrivateKey privateKey = privateKey(privateDer, publicKey.getAlgorithm());
        KeyPair pair = new KeyPair(publicKey, privateKey);
        if (!matches(pair)) {
            throw new IllegalArgumentException("the PUBLIC KEY block is not the public key of the PRIVATE KEY block");
        }
        return pair;
    }

    /** Every {@code PUBLIC KEY} in PEM text. */
    public static List<PublicKey> readPublicKeys(String pem) {
        List<PublicKey> keys = new ArrayList<>();
        for (Block block : blocks(pem)) {
            if (block.type().equals("PUBLIC KEY")) {
                keys.add(publicKey(block.der()));
            }
        }
        return keys;
    }

    /** An Ed25519 or P-256 public key from its DER SubjectPublicKeyInfo. */
    public static PublicKey publicKey(byte[] der) {
        for (String algorithm : List.of("Ed25519", "EC")) {
            try {
                PublicKey key = KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
                SignatureAlgorithm.of(key);
                return key;
            } catch (GeneralSecurityException | ClassCastException notThisKind) {
                // try the next kind
            }
        }
        throw new IllegalArgumentException("not an Ed25519 or ECDSA P-256 public key");
    }

    private static PrivateKey privateKey(byte[] der, String algorithm) {
        try {
            return KeyFactory.getInstance(algorithm.equals("EC") ? "EC" : "Ed25519")
                    .generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the PRIVATE KEY block is not a " + algorithm + " key like its PUBLIC"
                    + " KEY block (" + e.getMessage() + ")");
        }
    }

    private static boolean matches(KeyPair pair) {
        byte[] probe = "capmesh key pair check".getBytes(StandardCharsets.US_ASCII);
        try {
            SignatureAlgorithm algorithm = SignatureAlgorithm.of(pair.getPublic());
            java.security.Signature signer = algorithm.newSignature();
            signer.initSign(pair.getPrivate());
            signer.update(probe);
            byte[] signature = signer.sign();
            java.security.Signature verifier = algorithm.newSignature();
            verifier.initVerify(pair.getPublic());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private record Block(String type, byte[] der) {
    }

    private static List<Block> blocks(String pem) {
        List<Block> blocks = new ArrayList<>();
        Matcher matcher = PEM_BLOCK.matcher(pem);
        while (matcher.find()) {
            try {
                blocks.add(new Block(matcher.group(1), Base64.getMimeDecoder().decode(matcher.group(2))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the " + matcher.group(1) + " block is not valid base64");
            }
        }
        return blocks;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
