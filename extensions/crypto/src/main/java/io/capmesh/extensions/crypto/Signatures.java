package io.capmesh.extensions.crypto;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignResponse;
import io.capmesh.extensions.crypto.v1.VerifySignatureRequest;
import io.capmesh.extensions.crypto.v1.VerifySignatureResponse;
import java.math.BigInteger;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.util.Arrays;
import org.bouncycastle.util.BigIntegers;

/**
 * {@code crypto.sign}: Ed25519 (RFC 8032) and ECDSA on P-256 over SHA-256. ECDSA nonces are derived from the key and
 * the message (RFC 6979), so a weak random source can never give a private key away.
 */
final class Signatures {

    static final String MISMATCH =
            "signature verification failed: the message or the signature was altered, or the key is wrong";
    static final int LENGTH = 64;

    private final KeyRing keys;

    Signatures(KeyRing keys) {
        this.keys = keys;
    }

    SignResponse sign(SignRequest request) {
        KeyRing.Key key = key(request.getKeyId());
        if (key.publicOnly()) {
            throw new CapabilityException(CapabilityException.Reason.FAILED_PRECONDITION, "key "
                    + KeyRing.quoted(key.id()) + " is a public key only: it can verify signatures, not make them");
        }
        byte[] message = request.getMessage().toByteArray();
        byte[] signature = switch (key.type()) {
            case ED25519 -> {
                Ed25519Signer signer = new Ed25519Signer();
                signer.init(true, keys.ed25519(key));
                signer.update(message, 0, message.length);
                yield signer.generateSignature();
            }
            case ECDSA_P256 -> {
                ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
                signer.init(true, new ECPrivateKeyParameters(new BigInteger(1, key.secret()), KeyMaterial.P256));
                BigInteger[] rs = signer.generateSignature(sha256(message));
                yield Arrays.concatenate(BigIntegers.asUnsignedByteArray(32, rs[0]),
                        BigIntegers.asUnsignedByteArray(32, rs[1]));
            }
            default -> throw new IllegalStateException("unreachable: " + key.type());
        };
        return SignResponse.newBuilder().setSignature(ByteString.copyFrom(signature)).build();
    }

    VerifySignatureResponse verify(VerifySignatureRequest request) {
        KeyRing.Key key = key(request.getKeyId());
        byte[] message = request.getMessage().toByteArray();
        byte[] signature = request.getSignature().toByteArray();
        if (signature.length != LENGTH) {
            throw CapabilityException.invalidArgument("an " + key.type() + " signature is " + LENGTH
                    + " bytes; got " + signature.length);
        }
        boolean valid = switch (key.type()) {
            case ED25519 -> {
                Ed25519Signer verifier = new Ed25519Signer();
                verifier.init(false, new Ed25519PublicKeyParameters(key.publicKey()));
                verifier.update(message, 0, message.length);
                yield verifier.verifySignature(signature);
            }
            case ECDSA_P256 -> {
                ECDSASigner verifier = new ECDSASigner();
                verifier.init(false, (ECPublicKeyParameters) KeyMaterial.publicParameters(key.type(),
                        key.publicKey()));
                yield verifier.verifySignature(sha256(message),
                        new BigInteger(1, java.util.Arrays.copyOfRange(signature, 0, 32)),
                        new BigInteger(1, java.util.Arrays.copyOfRange(signature, 32, 64)));
            }
            default -> throw new IllegalStateException("unreachable: " + key.type());
        };
        if (!valid) {
            throw CapabilityException.invalidArgument(MISMATCH);
        }
        return VerifySignatureResponse.getDefaultInstance();
    }

    private KeyRing.Key key(String keyId) {
        return keys.require(keyId, "crypto.sign", KeyType.ED25519, KeyType.ECDSA_P256);
    }

    private static byte[] sha256(byte[] message) {
        return Hashing.digest(new SHA256Digest(), message);
    }
}
