package io.capmesh.extensions.crypto;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.crypto.v1.DigestRequest;
import io.capmesh.extensions.crypto.v1.DigestResponse;
import io.capmesh.extensions.crypto.v1.HashAlgorithm;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.Blake2bDigest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA3Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;

/** {@code crypto.hash}: SHA-2, SHA-3 and BLAKE2b digests. */
final class Hashing {

    DigestResponse digest(DigestRequest request) {
        byte[] data = request.getData().toByteArray();
        return DigestResponse.newBuilder().setDigest(ByteString.copyFrom(digest(digester(request.getAlgorithm()),
                data))).build();
    }

    static byte[] digest(Digest digest, byte[] data) {
        digest.update(data, 0, data.length);
        byte[] out = new byte[digest.getDigestSize()];
        digest.doFinal(out, 0);
        return out;
    }

    private static Digest digester(HashAlgorithm algorithm) {
        return switch (algorithm) {
            case SHA_256 -> new SHA256Digest();
            case SHA_384 -> new SHA384Digest();
            case SHA_512 -> new SHA512Digest();
            case SHA3_256 -> new SHA3Digest(256);
            case SHA3_384 -> new SHA3Digest(384);
            case SHA3_512 -> new SHA3Digest(512);
            case BLAKE2B_256 -> new Blake2bDigest(256);
            case BLAKE2B_512 -> new Blake2bDigest(512);
            case HASH_ALGORITHM_UNSPECIFIED, UNRECOGNIZED -> throw CapabilityException.invalidArgument(
                    "algorithm is required: one of SHA_256, SHA_384, SHA_512, SHA3_256, SHA3_384, SHA3_512, "
                            + "BLAKE2B_256, BLAKE2B_512");
        };
    }
}
