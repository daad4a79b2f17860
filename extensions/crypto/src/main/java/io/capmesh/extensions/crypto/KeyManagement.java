package io.capmesh.extensions.crypto;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.capmesh.crypto.keys.StoredKey;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.crypto.v1.DeleteKeyRequest;
import io.capmesh.extensions.crypto.v1.DeleteKeyResponse;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyRequest;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyResponse;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.GetKeyRequest;
import io.capmesh.extensions.crypto.v1.ImportKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyInfo;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.ListKeysRequest;
import io.capmesh.extensions.crypto.v1.ListKeysResponse;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.function.Supplier;

/**
 * {@code crypto.keys}: keys are made or imported here and then only named. What goes back to a caller is a key's
 * description and, for a signing key, its public half: never a private or secret key.
 */
final class KeyManagement {

    static final int MAX_LABEL = 128;

    private final KeyRing keys;
    private final SecureRandom random;

    KeyManagement(KeyRing keys, SecureRandom random) {
        this.keys = keys;
        this.random = random;
    }

    KeyInfo generate(GenerateKeyRequest request) {
        KeyType type = requireType(request.getType());
        String label = label(request.getLabel());
        KeyMaterial.Pair pair = KeyMaterial.generate(type, request.getSizeBytes(), random);
        return describe(store(() -> keys.store().add(type.name(), label, pair.secret(), pair.publicKey())));
    }

    KeyInfo importKey(ImportKeyRequest request) {
        KeyType type = requireType(request.getType());
        String label = label(request.getLabel());
        KeyMaterial.Pair pair = KeyMaterial.fromImport(type, request.getPrivateKey().toByteArray(),
                request.getPublicKey().toByteArray());
        return describe(store(() -> keys.store().add(type.name(), label, pair.secret(), pair.publicKey())));
    }

    KeyInfo get(GetKeyRequest request) {
        String keyId = requireId(request.getKeyId());
        return keys.store().find(keyId).map(stored -> describe(stored.info()))
                .orElseThrow(() -> notFound(keyId));
    }

    ListKeysResponse list(ListKeysRequest request) {
        ListKeysResponse.Builder answer = ListKeysResponse.newBuilder();
        keys.store().list().forEach(info -> answer.addKeys(describe(info)));
        return answer.build();
    }

    ExportPublicKeyResponse exportPublicKey(ExportPublicKeyRequest request) {
        String keyId = requireId(request.getKeyId());
        StoredKey key = keys.store().find(keyId).orElseThrow(() -> notFound(keyId));
        KeyType type = KeyRing.typeOf(keyId, key.info().algorithm());
        if (type != KeyType.ED25519 && type != KeyType.ECDSA_P256) {
            throw CapabilityException.invalidArgument("key " + KeyRing.quoted(keyId) + " is a symmetric " + type
                    + " key: it has no public part, and secret keys never leave the runtime");
        }
        byte[] publicKey = key.publicKey();
        byte[] der = KeyMaterial.subjectPublicKeyInfo(type, publicKey);
        return ExportPublicKeyResponse.newBuilder()
                .setKeyId(keyId)
                .setType(type)
                .setRaw(ByteString.copyFrom(publicKey))
                .setSpkiDer(ByteString.copyFrom(der))
                .setPem("-----BEGIN PUBLIC KEY-----\n"
                        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                        + "\n-----END PUBLIC KEY-----\n")
                .build();
    }

    DeleteKeyResponse delete(DeleteKeyRequest request) {
        String keyId = requireId(request.getKeyId());
        boolean deleted = store(() -> keys.store().delete(keyId));
        keys.forget(keyId);
        if (!deleted) {
            throw notFound(keyId);
        }
        return DeleteKeyResponse.getDefaultInstance();
    }

    private static KeyInfo describe(io.capmesh.crypto.keys.KeyInfo info) {
        KeyType type;
        try {
            type = KeyRing.typeOf(info.id(), info.algorithm());
        } catch (CapabilityException unknown) {
            type = KeyType.KEY_TYPE_UNSPECIFIED;
        }
        return KeyInfo.newBuilder()
                .setKeyId(info.id())
                .setType(type)
                .setLabel(info.label())
                .setCreated(Timestamp.newBuilder().setSeconds(info.created().getEpochSecond())
                        .setNanos(info.created().getNano()))
                .setPublicOnly(!info.hasSecret())
                .build();
    }

    /** Runs a change to the store; one that could not be persisted did not happen, and the caller may retry. */
    private static <T> T store(Supplier<T> change) {
        try {
            return change.get();
        } catch (UncheckedIOException e) {
            throw new CapabilityException(CapabilityException.Reason.UNAVAILABLE, "the key store could not be "
                    + "written, so nothing changed; the runtime's log has the cause");
        }
    }

    private static KeyType requireType(KeyType type) {
        if (type == KeyType.KEY_TYPE_UNSPECIFIED || type == KeyType.UNRECOGNIZED) {
            throw KeyMaterial.missingType();
        }
        return type;
    }

    private static String requireId(String keyId) {
        if (keyId.isBlank()) {
            throw CapabilityException.invalidArgument("key_id is required");
        }
        return keyId;
    }

    private static String label(String label) {
        if (label.length() > MAX_LABEL) {
            throw CapabilityException.invalidArgument("label is at most " + MAX_LABEL + " characters; got "
                    + label.length());
        }
        return label;
    }

    private static CapabilityException notFound(String keyId) {
        return CapabilityException.notFound("no key " + KeyRing.quoted(keyId) + " in this runtime's key store");
    }
}
