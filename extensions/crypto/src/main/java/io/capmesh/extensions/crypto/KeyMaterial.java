package io.capmesh.extensions.crypto;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.crypto.v1.KeyType;
import java.io.IOException;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.util.BigIntegers;

/**
 * What the bytes of each key type are: how to make them, how to check imported ones, and how to derive and encode a
 * public key. Nothing here ever puts key material into a message.
 */
final class KeyMaterial {

    /** The material the store keeps: the secret (empty for a public key only) and the public key (empty if none). */
    record Pair(byte[] secret, byte[] publicKey) {
    }

    /** P-256 with its name, so exported keys carry the curve's OID rather than explicit parameters. */
    static final ECDomainParameters P256 = new ECNamedDomainParameters(SECObjectIdentifiers.secp256r1,
            CustomNamedCurves.getByOID(SECObjectIdentifiers.secp256r1));

    static final int MAX_SECRET = 1024;

    private KeyMaterial() {
    }

    static Pair generate(KeyType type, int sizeBytes, SecureRandom random) {
        return switch (type) {
            case ED25519 -> {
                noSize(type, sizeBytes);
                Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(random);
                yield new Pair(key.getEncoded(), key.generatePublicKey().getEncoded());
            }
            case ECDSA_P256 -> {
                noSize(type, sizeBytes);
                BigInteger d = BigIntegers.createRandomInRange(BigInteger.ONE, P256.getN().subtract(BigInteger.ONE),
                        random);
                yield new Pair(BigIntegers.asUnsignedByteArray(32, d), ecPublic(d).getEncoded(false));
            }
            case HMAC_SHA256, HMAC_SHA384, HMAC_SHA512 -> {
                int size = sizeBytes == 0 ? Macs.length(type) : sizeBytes;
                if (size < 16 || size > MAX_SECRET) {
                    throw CapabilityException.invalidArgument("size_bytes of a generated " + type + " key is 16 to "
                            + MAX_SECRET + " (0 for " + Macs.length(type) + "); got " + sizeBytes);
                }
                yield new Pair(randomBytes(size, random), new byte[0]);
            }
            case AES_GCM -> {
                int size = sizeBytes == 0 ? 32 : sizeBytes;
                aesSize(size);
                yield new Pair(randomBytes(size, random), new byte[0]);
            }
            case CHACHA20_POLY1305 -> {
                if (sizeBytes != 0 && sizeBytes != 32) {
                    throw CapabilityException.invalidArgument("a CHACHA20_POLY1305 key is 32 bytes; size_bytes must "
                            + "be 0 or 32, got " + sizeBytes);
                }
                yield new Pair(randomBytes(32, random), new byte[0]);
            }
            default -> throw missingType();
        };
    }

    /** Checks imported material and completes it: the public key of a private key is derived, never trusted. */
    static Pair fromImport(KeyType type, byte[] privateKey, byte[] publicKey) {
        return switch (type) {
            case ED25519 -> {
                if (privateKey.length == 0) {
                    yield new Pair(new byte[0], ed25519Public(publicKey).getEncoded());
                }
                length(type, "private_key", privateKey, 32);
                byte[] derived = new Ed25519PrivateKeyParameters(privateKey).generatePublicKey().getEncoded();
                matches(publicKey, derived);
                yield new Pair(privateKey, derived);
            }
            case ECDSA_P256 -> {
                if (privateKey.length == 0) {
                    yield new Pair(new byte[0], ecPoint(publicKey).getEncoded(false));
                }
                length(type, "private_key", privateKey, 32);
                BigInteger d = new BigInteger(1, privateKey);
                if (d.signum() == 0 || d.compareTo(P256.getN()) >= 0) {
                    throw CapabilityException.invalidArgument("private_key is not a valid ECDSA_P256 private key: "
                            + "the scalar must be between 1 and the curve order minus 1");
                }
                byte[] derived = ecPublic(d).getEncoded(false);
                matches(publicKey.length == 0 ? publicKey : ecPoint(publicKey).getEncoded(false), derived);
                yield new Pair(privateKey, derived);
            }
            case HMAC_SHA256, HMAC_SHA384, HMAC_SHA512, AES_GCM, CHACHA20_POLY1305 -> {
                if (publicKey.length > 0) {
                    throw CapabilityException.invalidArgument(KeyRing.named(type) + " key is symmetric: it has no public_key; "
                            + "give the secret as private_key");
                }
                if (privateKey.length == 0) {
                    throw CapabilityException.invalidArgument("importing " + KeyRing.named(type) + " key needs its secret as "
                            + "private_key");
                }
                if (type == KeyType.AES_GCM) {
                    aesSize(privateKey.length);
                } else if (type == KeyType.CHACHA20_POLY1305) {
                    length(type, "private_key", privateKey, 32);
                } else if (privateKey.length > MAX_SECRET) {
                    throw CapabilityException.invalidArgument(KeyRing.named(type) + " key is 1 to " + MAX_SECRET
                            + " bytes; got " + privateKey.length);
                }
                yield new Pair(privateKey, new byte[0]);
            }
            default -> throw missingType();
        };
    }

    /** The public key for BouncyCastle, from what the store holds. */
    static AsymmetricKeyParameter publicParameters(KeyType type, byte[] publicKey) {
        return switch (type) {
            case ED25519 -> new Ed25519PublicKeyParameters(publicKey);
            case ECDSA_P256 -> new ECPublicKeyParameters(P256.getCurve().decodePoint(publicKey), P256);
            default -> throw new IllegalArgumentException(type + " has no public key");
        };
    }

    /** DER SubjectPublicKeyInfo, the form OpenSSL, the JDK and most tools import. */
    static byte[] subjectPublicKeyInfo(KeyType type, byte[] publicKey) {
        try {
            return SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(publicParameters(type, publicKey))
                    .getEncoded("DER");
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a " + type + " public key", e);
        }
    }

    static CapabilityException missingType() {
        return CapabilityException.invalidArgument("type is required: one of ED25519, ECDSA_P256, HMAC_SHA256, "
                + "HMAC_SHA384, HMAC_SHA512, AES_GCM, CHACHA20_POLY1305");
    }

    private static Ed25519PublicKeyParameters ed25519Public(byte[] publicKey) {
        length(KeyType.ED25519, "public_key", publicKey, 32);
        try {
            return new Ed25519PublicKeyParameters(publicKey);
        } catch (IllegalArgumentException e) {
            throw CapabilityException.invalidArgument("public_key is not a valid ED25519 public key (not a point "
                    + "on the curve)");
        }
    }

    private static ECPoint ecPoint(byte[] publicKey) {
        if (publicKey.length != 65 && publicKey.length != 33) {
            throw CapabilityException.invalidArgument("an ECDSA_P256 public_key is a SEC1 point of 65 bytes "
                    + "(uncompressed) or 33 (compressed); got " + publicKey.length);
        }
        try {
            return P256.validatePublicPoint(P256.getCurve().decodePoint(publicKey)).normalize();
        } catch (IllegalArgumentException e) {
            throw CapabilityException.invalidArgument("public_key is not a valid ECDSA_P256 public key (not a "
                    + "point on the curve)");
        }
    }

    private static ECPoint ecPublic(BigInteger d) {
        return P256.getG().multiply(d).normalize();
    }

    private static void matches(byte[] given, byte[] derived) {
        if (given.length > 0 && !Arrays.equals(given, derived)) {
            throw CapabilityException.invalidArgument("public_key does not belong to private_key; leave public_key "
                    + "empty to derive it");
        }
    }

    private static void length(KeyType type, String field, byte[] value, int expected) {
        if (value.length != expected) {
            throw CapabilityException.invalidArgument(type + " " + field + " must be " + expected + " bytes; got "
                    + value.length);
        }
    }

    private static void noSize(KeyType type, int sizeBytes) {
        if (sizeBytes != 0) {
            throw CapabilityException.invalidArgument(type + " keys have a fixed size; leave size_bytes 0");
        }
    }

    private static void aesSize(int size) {
        if (size != 16 && size != 24 && size != 32) {
            throw CapabilityException.invalidArgument("an AES_GCM key is 16, 24 or 32 bytes; got " + size);
        }
    }

    private static byte[] randomBytes(int size, SecureRandom random) {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return bytes;
    }
}
