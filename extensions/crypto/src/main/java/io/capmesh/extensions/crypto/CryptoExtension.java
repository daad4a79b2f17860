package io.capmesh.extensions.crypto;

import io.capmesh.crypto.keys.KeyStore;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.crypto.v1.AeadGrpc;
import io.capmesh.extensions.crypto.v1.HashGrpc;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.KeysGrpc;
import io.capmesh.extensions.crypto.v1.MacGrpc;
import io.capmesh.extensions.crypto.v1.SignerGrpc;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The crypto tier's capabilities: {@code crypto.hash}, {@code crypto.mac}, {@code crypto.sign}, {@code crypto.aead}
 * and {@code crypto.keys}, each method also a typed RPC of {@code capmesh.crypto.v1} (see {@code crypto.proto}). An
 * {@code Invoke} payload is the RPC's request message, serialized; the answer is its response message.
 *
 * <p>Keys live in the host's {@link KeyStore}, which outlives this extension: a swap to a new version keeps every
 * key, and this extension holds nothing that must survive it. BouncyCastle is the host's too (one copy per JVM,
 * warm for every version).
 */
public final class CryptoExtension implements Extension {

    private volatile Map<String, Operation<?, ?>> operations = Map.of();
    private volatile List<ServerServiceDefinition> services = List.of();

    @Override
    public void start(ExtensionContext context) {
        KeyStore store = context.hostService(KeyStore.class, "").orElseThrow(() -> new IllegalStateException(
                "the crypto extension keeps its keys in the host's " + KeyStore.class.getName() + ", which this "
                        + "runtime does not lend; run it in the crypto runtime (capmesh-crypto-runtime-service)"));
        SecureRandom random = new SecureRandom();
        KeyRing keys = new KeyRing(store);
        Hashing hashing = new Hashing();
        Macs macs = new Macs(keys);
        Signatures signatures = new Signatures(keys);
        Aeads aeads = new Aeads(keys, random);
        KeyManagement management = new KeyManagement(keys, random);
        List<Operation<?, ?>> all = List.of(
                new Operation<>("crypto.hash", HashGrpc.getDigestMethod(), hashing::digest),
                new Operation<>("crypto.mac", MacGrpc.getComputeMethod(), macs::compute),
                new Operation<>("crypto.mac", MacGrpc.getVerifyMethod(), macs::verify),
                new Operation<>("crypto.sign", SignerGrpc.getSignMethod(), signatures::sign),
                new Operation<>("crypto.sign", SignerGrpc.getVerifyMethod(), signatures::verify),
                new Operation<>("crypto.aead", AeadGrpc.getEncryptMethod(), aeads::encrypt),
                new Operation<>("crypto.aead", AeadGrpc.getDecryptMethod(), aeads::decrypt),
                new Operation<>("crypto.keys", KeysGrpc.getGenerateMethod(), management::generate),
                new Operation<>("crypto.keys", KeysGrpc.getImportMethod(), management::importKey),
                new Operation<>("crypto.keys", KeysGrpc.getGetMethod(), management::get),
                new Operation<>("crypto.keys", KeysGrpc.getListMethod(), management::list),
                new Operation<>("crypto.keys", KeysGrpc.getExportPublicKeyMethod(), management::exportPublicKey),
                new Operation<>("crypto.keys", KeysGrpc.getDeleteMethod(), management::delete));
        Map<String, Operation<?, ?>> byName = new LinkedHashMap<>();
        all.forEach(op -> byName.put(op.capability() + "/" + op.method(), op));
        operations = Map.copyOf(byName);
        services = Stream.of(HashGrpc.getServiceDescriptor(), MacGrpc.getServiceDescriptor(),
                        SignerGrpc.getServiceDescriptor(), AeadGrpc.getServiceDescriptor(),
                        KeysGrpc.getServiceDescriptor())
                .map(descriptor -> service(descriptor, all))
                .toList();
        warmUp();
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        Operation<?, ?> operation = operations.get(invocation.capability() + "/" + invocation.method());
        if (operation == null) {
            throw CapabilityException.notFound(invocation.capability() + " has no method " + invocation.method());
        }
        return operation.invoke(invocation.payload());
    }

    @Override
    public List<ServerServiceDefinition> services() {
        return services;
    }

    /** Every operation, for tests that hold the manifest against it. */
    Map<String, Operation<?, ?>> operations() {
        return operations;
    }

    private static ServerServiceDefinition service(ServiceDescriptor descriptor, List<Operation<?, ?>> all) {
        ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(descriptor);
        all.stream().filter(op -> op.rpc().getServiceName().equals(descriptor.getName()))
                .forEach(op -> op.addTo(service));
        return service.build();
    }

    /** Initializes this version's own classes (BouncyCastle's are the host's, already warm) before traffic. */
    private static void warmUp() {
        byte[] zeros = new byte[32];
        byte[] nonce = new byte[Aeads.NONCE];
        for (KeyType type : List.of(KeyType.AES_GCM, KeyType.CHACHA20_POLY1305)) {
            byte[] sealed = Aeads.seal(type, zeros, nonce, zeros, zeros);
            try {
                Aeads.open(type, zeros, nonce, sealed, zeros);
            } catch (org.bouncycastle.crypto.InvalidCipherTextException e) {
                throw new IllegalStateException(type + " does not decrypt what it encrypted", e);
            }
        }
    }
}
