package io.capmesh.extensions.crypto;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.crypto.v1.ComputeMacRequest;
import io.capmesh.extensions.crypto.v1.ComputeMacResponse;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.VerifyMacRequest;
import io.capmesh.extensions.crypto.v1.VerifyMacResponse;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.util.Arrays;

/** {@code crypto.mac}: HMAC (RFC 2104) with the hash its key was made for. */
final class Macs {

    static final String MISMATCH = "MAC verification failed: the data or the MAC was altered, or the key is wrong";

    private final KeyRing keys;

    Macs(KeyRing keys) {
        this.keys = keys;
    }

    ComputeMacResponse compute(ComputeMacRequest request) {
        KeyRing.Key key = key(request.getKeyId());
        return ComputeMacResponse.newBuilder()
                .setMac(ByteString.copyFrom(mac(key, request.getData().toByteArray()))).build();
    }

    VerifyMacResponse verify(VerifyMacRequest request) {
        KeyRing.Key key = key(request.getKeyId());
        byte[] given = request.getMac().toByteArray();
        if (given.length != length(key.type())) {
            throw CapabilityException.invalidArgument("an " + key.type() + " MAC is " + length(key.type())
                    + " bytes; got " + given.length);
        }
        if (!Arrays.constantTimeAreEqual(mac(key, request.getData().toByteArray()), given)) {
            throw CapabilityException.invalidArgument(MISMATCH);
        }
        return VerifyMacResponse.getDefaultInstance();
    }

    /** The MAC's length in bytes, which is also the default size of a generated key. */
    static int length(KeyType type) {
        return digest(type).getDigestSize();
    }

    private KeyRing.Key key(String keyId) {
        return keys.require(keyId, "crypto.mac", KeyType.HMAC_SHA256, KeyType.HMAC_SHA384, KeyType.HMAC_SHA512);
    }

    private static byte[] mac(KeyRing.Key key, byte[] data) {
        HMac hmac = new HMac(digest(key.type()));
        hmac.init(new KeyParameter(key.secret()));
        hmac.update(data, 0, data.length);
        byte[] out = new byte[hmac.getMacSize()];
        hmac.doFinal(out, 0);
        return out;
    }

    private static Digest digest(KeyType type) {
        return switch (type) {
            case HMAC_SHA256 -> new SHA256Digest();
            case HMAC_SHA384 -> new SHA384Digest();
            case HMAC_SHA512 -> new SHA512Digest();
            default -> throw new IllegalArgumentException(type + " is not an HMAC key type");
        };
    }
}
