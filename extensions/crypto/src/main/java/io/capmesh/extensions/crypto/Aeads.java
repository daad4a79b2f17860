package io.capmesh.extensions.crypto;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.crypto.v1.DecryptRequest;
import io.capmesh.extensions.crypto.v1.DecryptResponse;
import io.capmesh.extensions.crypto.v1.EncryptRequest;
import io.capmesh.extensions.crypto.v1.EncryptResponse;
import io.capmesh.extensions.crypto.v1.KeyType;
import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.AEADCipher;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * {@code crypto.aead}: AES-GCM and ChaCha20-Poly1305. A ciphertext is {@code nonce || encrypted || tag}; the nonce is
 * always fresh and random, never the caller's, so no caller can reuse one (which would break both ciphers).
 */
final class Aeads {

    static final int NONCE = 12;
    static final int TAG = 16;
    /** One message for every authentication failure: which part was wrong is not for the caller to learn. */
    static final String FAILED =
            "decryption failed: the ciphertext or its associated data was altered, or the key is wrong";

    private final KeyRing keys;
    private final SecureRandom random;

    Aeads(KeyRing keys, SecureRandom random) {
        this.keys = keys;
        this.random = random;
    }

    EncryptResponse encrypt(EncryptRequest request) {
        KeyRing.Key key = key(request.getKeyId());
        byte[] nonce = new byte[NONCE];
        random.nextBytes(nonce);
        byte[] sealed = seal(key.type(), key.secret(), nonce, request.getPlaintext().toByteArray(),
                request.getAssociatedData().toByteArray());
        return EncryptResponse.newBuilder()
                .setCiphertext(ByteString.copyFrom(nonce).concat(ByteString.copyFrom(sealed))).build();
    }

    DecryptResponse decrypt(DecryptRequest request) {
        KeyRing.Key key = key(request.getKeyId());
        byte[] ciphertext = request.getCiphertext().toByteArray();
        if (ciphertext.length < NONCE + TAG) {
            throw CapabilityException.invalidArgument("ciphertext is too short: it holds a " + NONCE + "-byte nonce "
                    + "and a " + TAG + "-byte tag at least, " + (NONCE + TAG) + " bytes; got " + ciphertext.length);
        }
        try {
            byte[] plaintext = open(key.type(), key.secret(), Arrays.copyOf(ciphertext, NONCE),
                    Arrays.copyOfRange(ciphertext, NONCE, ciphertext.length),
                    request.getAssociatedData().toByteArray());
            return DecryptResponse.newBuilder().setPlaintext(ByteString.copyFrom(plaintext)).build();
        } catch (InvalidCipherTextException e) {
            throw CapabilityException.invalidArgument(FAILED);
        }
    }

    /** Encrypts with a given nonce: {@code encrypted || tag}. Only for fresh nonces (and published test vectors). */
    static byte[] seal(KeyType type, byte[] key, byte[] nonce, byte[] plaintext, byte[] associatedData) {
        AEADCipher cipher = cipher(type, true, key, nonce, associatedData);
        try {
            return run(cipher, plaintext);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("encryption cannot fail authentication", e);
        }
    }

    /** Decrypts {@code encrypted || tag}, or fails if anything was altered or the key is another. */
    static byte[] open(KeyType type, byte[] key, byte[] nonce, byte[] sealed, byte[] associatedData)
            throws InvalidCipherTextException {
        return run(cipher(type, false, key, nonce, associatedData), sealed);
    }

    private KeyRing.Key key(String keyId) {
        return keys.require(keyId, "crypto.aead", KeyType.AES_GCM, KeyType.CHACHA20_POLY1305);
    }

    private static AEADCipher cipher(KeyType type, boolean encrypt, byte[] key, byte[] nonce, byte[] associatedData) {
        AEADCipher cipher = switch (type) {
            case AES_GCM -> GCMBlockCipher.newInstance(AESEngine.newInstance());
            case CHACHA20_POLY1305 -> new ChaCha20Poly1305();
            default -> throw new IllegalArgumentException(type + " is not an AEAD key type");
        };
        cipher.init(encrypt, new AEADParameters(new KeyParameter(key), TAG * 8, nonce, associatedData));
        return cipher;
    }

    private static byte[] run(AEADCipher cipher, byte[] input) throws InvalidCipherTextException {
        byte[] out = new byte[cipher.getOutputSize(input.length)];
        int length = cipher.processBytes(input, 0, input.length, out, 0);
        length += cipher.doFinal(out, length);
        return length == out.length ? out : Arrays.copyOf(out, length);
    }
}
