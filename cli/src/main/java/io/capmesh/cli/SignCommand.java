package io.capmesh.cli;

import com.google.protobuf.ByteString;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyRequest;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyResponse;
import io.capmesh.extensions.crypto.v1.KeysGrpc;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignerGrpc;
import io.capmesh.signing.PackageSignature;
import io.capmesh.signing.PackageSigner;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityCallException;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.stub.CapabilityHandle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sign", sortOptions = false,
        header = "Sign an extension jar.",
        description = {"Sign an extension jar with an Ed25519 or ECDSA P-256 key: " + PackageSignature.PATH
                + " then lists the SHA-256 of every other entry and a signature over that list, so that a runtime"
                + " refuses the jar if any entry is added, removed or altered.",
                "Runtimes accept it when the key's public half is in capmesh.runtime.signatures.trusted-keys;"
                        + " with capmesh.runtime.signatures.policy=required they accept nothing else.",
                "With --crypto-key the key stays in the crypto runtime: the jar's digest is signed there"
                        + " (crypto.sign, through the broker's lease) and only the signature comes back."})
final class SignCommand implements Callable<Integer> {

    @Mixin
    private Output output;

    @Parameters(index = "0", paramLabel = "JAR", description = "The extension jar.")
    private Path jar;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private SigningKey signingKey;

    static final class SigningKey {
        @Option(names = "--key", required = true, paramLabel = "KEY.pem",
                description = "The key pair file: PRIVATE KEY and PUBLIC KEY blocks, as capmesh keygen writes it.")
        Path file;

        @Option(names = "--crypto-key", required = true, paramLabel = "KEY_ID",
                description = "An Ed25519 or ECDSA P-256 key in the crypto runtime (crypto.keys generate or import).")
        String cryptoKey;
    }

    @Mixin
    private BrokerTarget target;

    @Option(names = "--account", paramLabel = "ACCOUNT", defaultValue = "cli",
            description = "With --crypto-key: whose lease signs (default: ${DEFAULT-VALUE}).")
    private String account;

    @Option(names = "--out", paramLabel = "OUT.jar", description = "Where to write the signed jar (default: JAR itself).")
    private Path out;

    @Override
    public Integer call() throws IOException {
        byte[] unsigned = readJar(jar);
        Signed signed;
        try {
            signed = signingKey.file != null ? signLocally(unsigned, readKey(signingKey.file))
                    : signInCryptoRuntime(unsigned, signingKey.cryptoKey);
        } catch (IllegalArgumentException | java.util.zip.ZipException e) {
            throw CliFailure.usage(jar + " cannot be signed: " + e.getMessage());
        }
        Path target = out == null ? jar : out;
        write(target, signed.jar());
        String keyId = SigningKeys.keyId(signed.publicKey());
        SignatureAlgorithm algorithm = SignatureAlgorithm.of(signed.publicKey());
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("jar", target.toString());
            json.put("keyId", keyId);
            json.put("algorithm", algorithm.label());
            output.json(json);
        } else {
            output.say("signed " + target + " with " + algorithm.label() + " key " + keyId);
        }
        return ExitCode.OK;
    }

    private record Signed(byte[] jar, PublicKey publicKey) {
    }

    private static Signed signLocally(byte[] jar, KeyPair pair) throws IOException {
        return new Signed(PackageSigner.sign(jar, pair), pair.getPublic());
    }

    /** The key never leaves the crypto runtime: it signs the digest, and its public half names the key. */
    private Signed signInCryptoRuntime(byte[] jar, String keyId) throws IOException {
        BrokerAddress broker = target.broker();
        try (CapabilityClient client = CapabilityClient.builder().broker(broker.target()).account(account)
                .credentials(target.credentials()).build();
             Capabilities caps = client.acquire(Acquire.require("crypto.keys").andRequire("crypto.sign"))) {
            ExportPublicKeyResponse exported = caps.get("crypto.keys").call("exportPublicKey", channel ->
                    KeysGrpc.newBlockingStub(channel).exportPublicKey(ExportPublicKeyRequest.newBuilder()
                            .setKeyId(keyId).build()));
            PublicKey publicKey = SigningKeys.publicKey(exported.getSpkiDer().toByteArray());
            CapabilityHandle signer = caps.get("crypto.sign");
            return new Signed(PackageSigner.sign(jar, publicKey, digest -> signer.call("sign", channel ->
                    SignerGrpc.newBlockingStub(channel).sign(SignRequest.newBuilder().setKeyId(keyId)
                            .setMessage(ByteString.copyFrom(digest)).build())).getSignature().toByteArray()),
                    publicKey);
        } catch (CapabilityCallException e) {
            throw Remote.failure(e, broker);
        }
    }

    static KeyPair readKey(Path file) {
        if (!Files.isRegularFile(file)) {
            throw CliFailure.usage("no key file at " + file + "; make one with capmesh keygen --out DIR");
        }
        try {
            return SigningKeys.readKeyPair(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage(file + " is not a signing key: " + e.getMessage());
        } catch (IOException e) {
            throw CliFailure.usage("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static byte[] readJar(Path file) {
        if (!Files.isRegularFile(file)) {
            throw CliFailure.usage("no jar at " + file);
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw CliFailure.usage("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Through a temporary file, so a jar signed in place is never left half written. */
    private static void write(Path target, byte[] bytes) {
        try {
            Path parent = target.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path temp = Files.createTempFile(parent, ".capmesh-sign-", ".jar");
            try {
                Files.write(temp, bytes);
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw CliFailure.failed("cannot write " + target + ": " + e.getMessage());
        }
    }
}
