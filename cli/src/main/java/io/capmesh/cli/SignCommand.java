package io.capmesh.cli;

import io.capmesh.signing.PackageSignature;
import io.capmesh.signing.PackageSigner;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
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
                        + " with capmesh.runtime.signatures.policy=required they accept nothing else."})
final class SignCommand implements Callable<Integer> {

    @Mixin
    private Output output;

    @Parameters(index = "0", paramLabel = "JAR", description = "The extension jar.")
    private Path jar;

    @Option(names = "--key", required = true, paramLabel = "KEY.pem",
            description = "The key pair file: PRIVATE KEY and PUBLIC KEY blocks, as capmesh keygen writes it.")
    private Path key;

    @Option(names = "--out", paramLabel = "OUT.jar", description = "Where to write the signed jar (default: JAR itself).")
    private Path out;

    @Override
    public Integer call() throws IOException {
        KeyPair pair = readKey(key);
        byte[] signed;
        try {
            signed = PackageSigner.sign(readJar(jar), pair);
        } catch (IllegalArgumentException | java.util.zip.ZipException e) {
            throw CliFailure.usage(jar + " cannot be signed: " + e.getMessage());
        }
        Path target = out == null ? jar : out;
        write(target, signed);
        String keyId = SigningKeys.keyId(pair.getPublic());
        SignatureAlgorithm algorithm = SignatureAlgorithm.of(pair.getPublic());
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
